// Each extra destination's CPU cost at 720p30 2.5 Mbit/s, and the encode count.
// (a) ours: one encoder writing MPEG-TS to a pipe, the fan-out feeding one `-c copy` FFmpeg per
//     destination (BroadcastOutput, as the render thread runs it), N = 1, 2, 4, 8;
// (b) the alternative it replaced: FFmpeg's tee muxer, one process writing N FLV outputs
//     (cheaper, but one failing destination is dropped until FFmpeg restarts, taking all down).
// Frames: 30 testcard frames rendered once and cycled at 30 fps, so the render cost is the same
// in every run and the differences are the outputs'. CPU from /proc (FFmpeg) and
// process.cpuUsage() (the fan-out in this process). Goal: ≤ 3 % of one core per destination.
import { spawn, type ChildProcess } from 'node:child_process';
import { createCanvas } from '@napi-rs/canvas';
import { BroadcastOutput } from '../src/render/ffmpeg/broadcast-output.js';
import { buildEncoderArgs } from '../src/render/ffmpeg/args.js';
import { registerFonts } from '../src/render/fonts.js';
import { testcard } from '../src/render/scenes/testcard.js';
import { ffmpegProcs, encoders } from '../test/helpers/ffmpeg-procs.js';
import { startBenchRtmp } from './lib/rtmp-server.js';
import { fmt, printMachine, procUsage } from './lib/stats.js';

const W = 1280;
const H = 720;
const FPS = 30;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_MS = 6000;
const settings = { width: W, height: H, fps: FPS, videoBitrate: '2500k', audioBitrate: '128k' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function frames(): Buffer[] {
  registerFonts();
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  return Array.from({ length: FPS }, (_, frame) => {
    testcard.draw(ctx, { width: W, height: H, frame, timeMs: (frame * 1000) / FPS, startedMs: 0, streamKey: 'bench', fps: FPS }, undefined);
    return Buffer.from(canvas.data());
  });
}

function pump(sink: { writeFrame(b: Buffer): boolean }, all: Buffer[]): () => void {
  let i = 0;
  const t = setInterval(() => sink.writeFrame(all[i++ % all.length]), 1000 / FPS);
  return () => clearInterval(t);
}

/** CPU % of one core over the window, per FFmpeg process and for this process. */
async function measure(): Promise<{ ffmpeg: Map<number, number>; self: number }> {
  await sleep(WARMUP_MS);
  const before = new Map(ffmpegProcs().map((p) => [p.pid, procUsage(p.pid).cpuSeconds]));
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const secs = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  const ffmpeg = new Map<number, number>();
  for (const [pid, c0] of before) {
    try {
      ffmpeg.set(pid, ((procUsage(pid).cpuSeconds - c0) / secs) * 100);
    } catch {
      /* exited */
    }
  }
  return { ffmpeg, self: ((self.user + self.system) / 1e6 / secs) * 100 };
}

async function main() {
  printMachine();
  const rtmp = await startBenchRtmp();
  console.log(`RTMP server: ${rtmp.kind}; ${W}x${H}@${FPS}, ${settings.videoBitrate}; ${SECONDS} s windows after ${WARMUP_MS / 1000} s warm-up`);
  const all = frames();
  const rows: Array<{ n: number; encoder: number; outputs: number[]; self: number; encodes: number }> = [];

  for (const n of [1, 2, 4, 8]) {
    const b = new BroadcastOutput({
      ffmpegPath: 'ffmpeg', streamKey: 'bench', maxFailures: 5, stallSeconds: 10, settings, hlsDir: null,
      destinations: Array.from({ length: n }, (_, i) => ({ id: `d${i}`, url: `${rtmp.base}/bench-${n}-${i}` })),
    });
    b.start();
    const stop = pump(b, all);
    const m = await measure();
    const encodes = encoders().length;
    const encPid = b.encoder.stats().pid!;
    const live = b.status().destinations.filter((d) => d.health === 'live').length;
    rows.push({ n, encoder: m.ffmpeg.get(encPid) ?? NaN, outputs: [...m.ffmpeg].filter(([p]) => p !== encPid).map(([, c]) => c), self: m.self, encodes });
    stop();
    await b.stop();
    if (live !== n) console.log(`  (only ${live}/${n} destinations were live)`);
  }

  console.log('\n(a) one encode + one -c copy FFmpeg per destination');
  console.log('dests  encodes  encoder%  per-output% (mean)  this process%  total%');
  for (const r of rows) {
    const mean = r.outputs.reduce((x, y) => x + y, 0) / r.outputs.length;
    const total = r.encoder + r.outputs.reduce((x, y) => x + y, 0) + r.self;
    console.log(`${String(r.n).padStart(5)}  ${String(r.encodes).padStart(7)}  ${fmt(r.encoder).padStart(8)}  ${fmt(mean).padStart(18)}  ${fmt(r.self).padStart(13)}  ${fmt(total).padStart(6)}`);
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  const totalOf = (r: (typeof rows)[0]) => r.encoder + r.outputs.reduce((x, y) => x + y, 0) + r.self;
  const perDest = (totalOf(last) - totalOf(first)) / (last.n - first.n);
  const outMean = rows.flatMap((r) => r.outputs).reduce((x, y, _i, arr) => x + y / arr.length, 0);
  const fanout = (last.self - first.self) / (last.n - first.n);
  console.log(`per extra destination: ${fmt(perDest, 2)} % of one core (its FFmpeg ${fmt(outMean, 2)} %, fan-out in the render thread ${fmt(fanout, 2)} %); goal ≤ 3 %`);
  console.log(`encodes per stream: ${rows.map((r) => r.encodes).join(', ')} (for ${rows.map((r) => r.n).join(', ')} destinations)`);

  // (b) tee: one FFmpeg, N FLV outputs.
  const tee: Array<{ n: number; cpu: number }> = [];
  for (const n of [1, 4]) {
    const args = buildEncoderArgs(settings).slice(0, -5);
    const urls = Array.from({ length: n }, (_, i) => `[f=flv:onfail=ignore:flvflags=no_duration_filesize]${rtmp.base}/tee-${n}-${i}`);
    const child: ChildProcess = spawn('ffmpeg', [...args, '-flags', '+global_header', '-f', 'tee', urls.join('|')], { stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
    child.stdin!.on('error', () => {});
    (child.stdio[3] as NodeJS.ReadableStream).resume(); // -progress pipe:3 must be open, or FFmpeg fails
    let i = 0;
    const t = setInterval(() => child.stdin!.writableLength < 3 * W * H * 4 && child.stdin!.write(all[i++ % all.length]), 1000 / FPS);
    const m = await measure();
    tee.push({ n, cpu: m.ffmpeg.get(child.pid!) ?? NaN });
    clearInterval(t);
    child.kill('SIGKILL');
    await sleep(300);
  }
  console.log('\n(b) tee muxer, one FFmpeg for the encode and every output');
  for (const r of tee) console.log(`  ${r.n} destination(s): ${fmt(r.cpu)} % of one core`);
  console.log(`  per extra destination: ${fmt((tee[1].cpu - tee[0].cpu) / 3, 2)} %`);
  await rtmp.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
