// Where one stream's CPU goes (issue 14, goal 2: one stream ≤ 0.30 CPU-seconds per second in all
// our processes together): CPU-seconds per second of the web process, the worker (each of its
// threads: the main thread, the stream's render thread, V8's helpers) and each FFmpeg child (the
// encoder, the copy output), read from /proc while one 1280×720 30 fps stream runs, plus the
// RTMP server's when it is a process of its own (nginx). SCENE (poll, the default, with a live
// 4-option poll and its QR code; or testcard), BENCH_SECONDS (20), RUNS (3: the median total),
// WARMUP_SECONDS (6: how long the stream runs before the measurement).
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startService } from './lib/service.js';
import { startBenchRtmp } from './lib/rtmp-server.js';
import { fmt, percentile, printMachine } from './lib/stats.js';

const SCENE = process.env.SCENE ?? 'poll';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RUNS = Number(process.env.RUNS ?? 3);
const WARMUP = Number(process.env.WARMUP_SECONDS ?? 6);
const HZ = 100; // USER_HZ: /proc's clock ticks
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU-seconds of each thread of `pid`, by "name#tid". */
function threads(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m.set(`${st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'))}#${tid}`, (Number(f[11]) + Number(f[12])) / HZ);
    } catch {
      /* a thread that ended */
    }
  }
  return m;
}

const children = (pid: number, name: string): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid), name]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

async function once(run: number): Promise<number> {
  const rtmp = await startBenchRtmp();
  const svc = await startService({ RTMP_URL: rtmp.base, WIDTH: '1280', HEIGHT: '720', BROADCAST_FPS: '30', LOG_LEVEL: 'warn', ADMISSION: 'off', SHED_LOAD: 'false', PUBLIC_URL: 'https://polls.example.com' });
  try {
    if (SCENE === 'poll') {
      const body = { question: 'Who wins the final round on the frozen bridge?', options: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'], durationSeconds: 3600 };
      const r = await fetch(`${svc.web.url}/api/poll/generate`, { method: 'POST', headers: svc.headers, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`poll: ${r.status}`);
    }
    const r = await fetch(`${svc.web.url}/api/stream`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ streamKey: `split${run}`, screenId: SCENE, fps: 5 }) });
    if (!r.ok) throw new Error(`start: ${r.status} ${await r.text()}`);
    await sleep(WARMUP * 1000); // past FFmpeg's start and the first keyframes (and, longer, V8's tier-up of the per-frame code)
    const worker = svc.worker.child.pid!;
    const nginx = rtmp.pid ? [rtmp.pid] : [];
    const procs: Array<[string, number]> = [['web', svc.web.child.pid!], ['worker', worker], ...children(worker, 'ffmpeg').map((p): [string, number] => [fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('rawvideo') ? 'ffmpeg (encoder)' : 'ffmpeg (copy output)', p]), ...nginx.map((p): [string, number] => ['nginx (RTMP server)', p])];
    const before = new Map(procs.map(([, p]) => [p, threads(p)]));
    const t0 = Date.now();
    await sleep(SECONDS * 1000);
    const dt = (Date.now() - t0) / 1000;
    let ours = 0;
    let all = 0;
    console.log(`run ${run + 1}: one ${SCENE} stream, ${SECONDS} s`);
    for (const [name, pid] of procs) {
      const after = threads(pid);
      const rows: string[] = [];
      let sum = 0;
      for (const [k, v] of after) {
        const d = (v - (before.get(pid)!.get(k) ?? 0)) / dt;
        sum += d;
        if (d >= 0.005) rows.push(`${k} ${fmt(d, 3)}`);
      }
      all += sum;
      if (!name.startsWith('nginx')) ours += sum;
      console.log(`  ${name.padEnd(20)} ${fmt(sum, 3)} CPU-s/s${rows.length > 1 ? `  (threads: ${rows.join(', ')})` : ''}`);
    }
    console.log(`  our processes: ${fmt(ours, 3)} CPU-s/s (goal ≤ 0.30)${nginx.length ? `, with the RTMP server ${fmt(all, 3)}` : ''}`);
    return ours;
  } finally {
    await svc.close();
    await rtmp.close();
  }
}

async function main() {
  printMachine();
  const totals: number[] = [];
  for (let i = 0; i < RUNS; i++) totals.push(await once(i));
  console.log(`cpu-split: one 1280x720 30 fps ${SCENE} stream, all our processes: median ${fmt(percentile(totals, 50), 3)} CPU-s/s over ${RUNS} runs (${totals.map((t) => fmt(t, 3)).join(', ')}); goal ≤ 0.30`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
