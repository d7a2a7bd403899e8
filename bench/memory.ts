// Issue 14, memory: where a stream's RSS goes. Starts web + worker (a PostgreSQL server, not the
// embedded database) and adds 1280×720 30 fps poll streams one at a time, pushed to a local RTMP
// server; after each has settled it prints the RSS and PSS (shared pages split between the
// processes that map them: what the machine really spends) of the web process, the worker, and
// the worker's FFmpeg children, and what the last stream added. STREAMS (3), SETTLE_SECONDS (12).
import { spawn } from 'node:child_process';
import { buildEncoderArgs } from '../src/render/ffmpeg/args.js';
import { startService } from './lib/service.js';
import { startBenchRtmp } from './lib/rtmp-server.js';
import { fmt, printMachine } from './lib/stats.js';
import { ffmpegPss, mem, smaps } from './lib/proc-mem.js';

const STREAMS = Number(process.env.STREAMS ?? 3);
const SETTLE = Number(process.env.SETTLE_SECONDS ?? 12) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row { streams: number; web: number; worker: number; encoders: number; outputs: number; total: number; rssTotal: number }

function measure(streams: number, webPid: number, workerPid: number): Row {
  const w = mem(webPid);
  const k = mem(workerPid);
  const f = ffmpegPss(workerPid);
  return { streams, web: w.pss, worker: k.pss, encoders: f.encoders, outputs: f.outputs, total: w.pss + k.pss + f.encoders + f.outputs, rssTotal: w.rss + k.rss + f.rss };
}

/**
 * FFmpeg alone, the limit: the same encoder command line (I420 in, as the render threads feed
 * it) fed by a lavfi testsrc2 at real time; its PSS and private memory once it has run a while.
 */
async function encoderAlone(): Promise<{ pss: number; priv: number }> {
  const settings = { width: 1280, height: 720, fps: 30, videoBitrate: '2500k', audioBitrate: '128k', inputPixFmt: 'yuv420p' as const };
  const gen = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const enc = spawn('ffmpeg', buildEncoderArgs(settings), { stdio: ['pipe', 'pipe', 'ignore', 'pipe'] });
  gen.stdout!.pipe(enc.stdin!);
  enc.stdin!.on('error', () => {});
  enc.stdout!.resume();
  (enc.stdio[3] as NodeJS.ReadableStream).resume();
  await sleep(SETTLE);
  const m = smaps(enc.pid!);
  gen.kill('SIGKILL');
  enc.kill('SIGKILL');
  return { pss: m.Pss ?? 0, priv: (m.Private_Clean ?? 0) + (m.Private_Dirty ?? 0) };
}

async function main() {
  printMachine();
  const rtmp = await startBenchRtmp();
  const svc = await startService({ RTMP_URL: rtmp.base, WIDTH: '1280', HEIGHT: '720', BROADCAST_FPS: '30', ADMISSION: 'off', SHED_LOAD: 'false', WORKER_CONCURRENCY: String(STREAMS + 1) });
  const rows: Row[] = [];
  try {
    await sleep(SETTLE / 2);
    rows.push(measure(0, svc.web.child.pid!, svc.worker.child.pid!));
    for (let i = 0; i < STREAMS; i++) {
      const streamKey = `bench-mem-${Date.now().toString(36)}-${i}`;
      const r = await fetch(`${svc.web.url}/api/stream`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ streamKey, screenId: 'poll' }) });
      if (!r.ok) throw new Error(`start: ${r.status} ${await r.text()}`);
      await sleep(SETTLE);
      rows.push(measure(i + 1, svc.web.child.pid!, svc.worker.child.pid!));
    }
  } finally {
    await svc.close();
    await rtmp.close();
  }
  console.log('memory (PSS, MB; RSS total counts shared pages once per process): 1280×720 30 fps poll streams, web + worker on a PostgreSQL server');
  console.log('streams   web  worker  encoders  outputs   total  (+last)   RSS total');
  let prev: Row | null = null;
  for (const r of rows) {
    const d = prev ? `+${fmt(r.total - prev.total, 0)}` : '';
    console.log(`${String(r.streams).padStart(7)} ${fmt(r.web, 0).padStart(5)} ${fmt(r.worker, 0).padStart(7)} ${fmt(r.encoders, 0).padStart(9)} ${fmt(r.outputs, 0).padStart(8)} ${fmt(r.total, 0).padStart(7)} ${d.padStart(8)} ${fmt(r.rssTotal, 0).padStart(11)}`);
    prev = r;
  }
  const first = rows[1];
  const extra = rows.length > 2 ? (rows.at(-1)!.total - rows[1].total) / (rows.length - 2) : NaN;
  const alone = await encoderAlone();
  console.log(`FFmpeg alone (our encoder arguments, lavfi input): PSS ${fmt(alone.pss, 0)} MB, private ${fmt(alone.priv, 0)} MB: what each extra stream's encoder costs at least`);
  console.log(`first stream: web + worker ${fmt(first.web + first.worker, 0)} MB PSS (goal ≤ 250), ${fmt(first.total, 0)} MB with its FFmpeg processes; each extra stream: ${fmt(extra, 1)} MB (goal ≤ 40)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
