// Broadcast figures: one 1280×720 30 fps stream for 60 s (delivered fps, drops, CPU, RSS), how many
// such streams one machine holds at ≥ 29.5 fps each, and render-to-RTMP latency from a time code.
// The worker runs as its own process (as in production); the RTMP server and readers run here.
// BENCH_SECONDS, MIN_STREAMS (2: the first count to try), MAX_STREAMS, PARTS=one,many,latency and SCENE (testcard, or poll: a live 4-option
// poll is created through the API first, so the scene draws bars, countdown and the QR code) tune it.
// CPU is the worker process and its FFmpeg children, read from /proc (CPU-seconds per second and
// per frame: the figures to compare on a shared machine, more than fps).
// Previews (issue 14): PREVIEW_FPS (default 5) is the streams' preview rate; PREVIEW_VIEWERS=sse
// keeps one SSE reader per stream open (the streams are watched: previews at PREVIEW_FPS),
// anything else none (unwatched: previews at the service's PREVIEW_IDLE_FPS, passed through).
import { execFileSync } from 'node:child_process';
import { startService } from './lib/service.js';
import { countFrames, readGrayFrames } from './lib/rtmp-reader.js';
import { procUsage, sampleRss, percentile, fmt, printMachine } from './lib/stats.js';
import { startBenchRtmp } from './lib/rtmp-server.js';
import { readTimecode } from '../src/render/scenes/timecode.js';
import { openSse, type SseClient } from '../scripts/lib/sse-client.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const MAX_STREAMS = Number(process.env.MAX_STREAMS ?? 6);
const MIN_STREAMS = Math.max(1, Number(process.env.MIN_STREAMS ?? 2));
const PARTS = (process.env.PARTS ?? 'one,many,latency').split(',');
const SCENE = process.env.SCENE ?? 'testcard';
const PREVIEW_FPS = Number(process.env.PREVIEW_FPS ?? 5);
const WATCHED = process.env.PREVIEW_VIEWERS === 'sse';
let rtmpKind = '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ffmpegPids(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), 'ffmpeg']).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function cpuOf(pids: number[]): number {
  return pids.reduce((n, p) => {
    try {
      return n + procUsage(p).cpuSeconds;
    } catch {
      return n;
    }
  }, 0);
}

async function withService<T>(fn: (svc: Awaited<ReturnType<typeof startService>>, rtmpBase: string) => Promise<T>): Promise<T> {
  const rtmp = await startBenchRtmp();
  rtmpKind = rtmp.kind;
  const base = rtmp.base;
  const svc = await startService({ RTMP_URL: base, WIDTH: '1280', HEIGHT: '720', BROADCAST_FPS: '30', WORKER_CONCURRENCY: String(MAX_STREAMS + 1), LOG_LEVEL: 'warn',
    // What the pipeline holds, so nothing may refuse a stream or shed frames (bench/overload.ts measures those).
    ADMISSION: 'off', SHED_LOAD: 'false', PUBLIC_URL: 'https://polls.example.com' });
  try {
    if (SCENE === 'poll') {
      const body = { question: 'Who wins the final round on the frozen bridge?', options: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'], durationSeconds: 3600 };
      const r = await fetch(`${svc.web.url}/api/poll/generate`, { method: 'POST', headers: svc.headers, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`poll: ${r.status} ${await r.text()}`);
      for (const [i, option] of ['A', 'A', 'B', 'C', 'A', 'D', 'B'].entries()) {
        await fetch(`${svc.web.url}/api/vote`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ option, voterId: `bench-voter-${i}` }) });
      }
    }
    return await fn(svc, base);
  } finally {
    await svc.close();
    await rtmp.close();
  }
}

async function startStreams(svc: Awaited<ReturnType<typeof startService>>, keys: string[], screenId: string) {
  for (const streamKey of keys) {
    const r = await fetch(`${svc.web.url}/api/stream`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ streamKey, screenId, fps: PREVIEW_FPS }) });
    if (!r.ok) throw new Error(`start ${streamKey}: ${r.status} ${await r.text()}`);
  }
}

async function status(svc: Awaited<ReturnType<typeof startService>>, key: string) {
  return (await fetch(`${svc.web.url}/stream/status?streamKey=${key}`)).json() as Promise<{ frames: number; dropped: number; health: string }>;
}

/** Run `n` streams, measure every stream's delivered fps over `seconds` after a warm-up. */
async function measure(n: number, seconds: number, screenId = SCENE) {
  return withService(async (svc, base) => {
    const keys = Array.from({ length: n }, (_, i) => `bench-bc-${n}-${i}`);
    await startStreams(svc, keys, screenId);
    for (let i = 0; i < 100; i++) {
      const all = await Promise.all(keys.map((k) => status(svc, k)));
      if (all.every((s) => s.health === 'live')) break;
      await sleep(100);
    }
    const readers = keys.map((k) => countFrames(`${base}/${k}`));
    const viewers: SseClient[] = WATCHED ? await Promise.all(keys.map((k) => openSse(`${svc.web.url}/stream/feed?streamKey=${k}`))) : [];
    await sleep(4000); // warm-up: readers connected, encoders settled
    const worker = svc.worker.child.pid!;
    const pids = () => [worker, ...ffmpegPids(worker)];
    const f0 = readers.map((r) => r.frames());
    const s0 = await Promise.all(keys.map((k) => status(svc, k)));
    const c0 = cpuOf(pids());
    const rss = sampleRss(worker);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const c1 = cpuOf(pids());
    const f1 = readers.map((r) => r.frames());
    const s1 = await Promise.all(keys.map((k) => status(svc, k)));
    const mem = rss.stop();
    readers.forEach((r) => r.close());
    const previews = viewers.map((v) => v.messages.length);
    viewers.forEach((v) => v.close());
    return {
      previews,
      fps: f1.map((f, i) => (f - f0[i]) / elapsed),
      dropped: s1.map((s, i) => s.dropped - s0[i].dropped),
      droppedTotal: s1.map((s) => s.dropped),
      cpuPerSecond: (c1 - c0) / elapsed,
      cpuMsPerFrame: ((c1 - c0) * 1000) / Math.max(1, f1.reduce((a, f, i) => a + f - f0[i], 0)),
      rssPeakMB: mem.peakMB,
    };
  });
}

async function latency(seconds: number) {
  return withService(async (svc, base) => {
    await startStreams(svc, ['bench-latency'], 'timecode');
    await sleep(2000);
    const lat: number[] = [];
    const child = readGrayFrames(`${base}/bench-latency`, 1280, 720, (gray, arrived) => {
      const t = readTimecode(gray, 1280);
      if (t && Math.abs(arrived - t) < 60_000) lat.push(arrived - t);
    });
    await sleep(seconds * 1000);
    child.kill('SIGKILL');
    return lat.slice(30); // skip the reader's start-up burst
  });
}

async function main() {
  printMachine();
  console.log(`broadcast: scene ${SCENE}, 1280x720 @ 30 fps, libx264 ultrafast CBR 2500k, worker in its own process, ${process.env.HOSTNAME ?? 'this machine'} (2 cores)`);
  console.log(`previews: ${PREVIEW_FPS} fps configured, ${WATCHED ? 'watched (one SSE reader per stream)' : `unwatched (PREVIEW_IDLE_FPS=${process.env.PREVIEW_IDLE_FPS ?? '1, the default'})`}`);
  if (PARTS.includes('one')) {
    const r = await measure(1, SECONDS);
    console.log(`one stream, ${SECONDS} s: delivered ${fmt(r.fps[0], 2)} fps (goal ≥ 29.9), dropped ${r.dropped[0]} in the window (goal 0; ${r.droppedTotal[0]} since start incl. FFmpeg start-up),` +
      ` worker+FFmpeg ${fmt(r.cpuPerSecond, 2)} CPU-s/s (${fmt(r.cpuMsPerFrame, 2)} CPU-ms per delivered frame), worker RSS peak ${fmt(r.rssPeakMB)} MB (goal < 200)` +
      (WATCHED ? `, ${r.previews[0]} previews to the SSE reader` : ''));
  }
  if (PARTS.includes('many')) {
    let held = 0;
    for (let n = MIN_STREAMS; n <= MAX_STREAMS; n++) {
      const r = await measure(n, Math.min(20, SECONDS));
      const min = Math.min(...r.fps);
      console.log(`${n} streams: min ${fmt(min, 2)} fps, mean ${fmt(r.fps.reduce((a, b) => a + b, 0) / n, 2)} fps, dropped ${r.dropped.join('/')}, ${fmt(r.cpuPerSecond, 2)} CPU-s/s (${fmt(r.cpuMsPerFrame, 2)} CPU-ms/frame), worker RSS ${fmt(r.rssPeakMB)} MB`);
      if (min >= 29.5) held = n;
      else break;
    }
    console.log(`concurrent streams held at ≥ 29.5 fps each: ${held} (issue 14: ≥ 8)`);
  }
  console.log(`RTMP server: ${rtmpKind}`);
  if (PARTS.includes('latency')) {
    const lat = await latency(Math.min(20, SECONDS));
    console.log(`render-to-RTMP latency (time code, decoded by an ffmpeg reader with nobuffer/low_delay): p50 ${fmt(percentile(lat, 50), 0)} ms, p95 ${fmt(percentile(lat, 95), 0)} ms over ${lat.length} frames (goal p50 ≤ 500 ms)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
