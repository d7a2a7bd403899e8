// Issue 14's four goals side by side with FFmpeg alone, in one run, repeated RUNS times (3) with
// the median: each figure comes from the benchmark that measures it (run as a child, its output
// parsed), and FFmpeg alone is measured here with the broadcast's own encoder arguments.
//   1. concurrent 1280×720 30 fps poll streams held at ≥ 29.5 fps (broadcast.ts PARTS=many) —
//      FFmpeg alone: STREAMS_ALONE (8) encoders from testsrc2 at real time, each one's fps
//   2. uncapped fps ratio to FFmpeg alone (encode-reference.ts SCENE=poll), and one stream's
//      CPU-seconds per second in all our processes (cpu-split.ts) — FFmpeg alone: one at real time
//   3. PSS of web + worker with one stream, and what each extra stream adds (memory.ts)
//   4. POST /stream/start → first SSE frame p50 and p95, stop p50 (control-latency.ts)
// Takes ~8 minutes a run. MAX_STREAMS (8) bounds the scan of goal 1; ONLY_ALONE=1 measures FFmpeg alone only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { encoderCommands } from './lib/ffmpeg-alone.js';
import { fmt, percentile, printMachine } from './lib/stats.js';

const RUNS = Number(process.env.RUNS ?? 3);
const STREAMS_ALONE = Number(process.env.STREAMS_ALONE ?? 8);
const dir = path.dirname(fileURLToPath(import.meta.url));

/** Runs bench/<name>.ts with `env`; its whole output (it fails the run when the script fails). */
function bench(name: string, env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, `${name}.ts`)], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout;
}

/** The first number after `re` in `text` (NaN when absent: the figure is then shown as n/a). */
function num(text: string, re: RegExp): number {
  const m = text.match(re);
  return m ? Number(m[1]) : Number.NaN;
}

/**
 * FFmpeg alone, `n` at once at real time for 20 s: each one's fps as FFmpeg itself reports it on
 * its progress pipe (frames over the time since its input opened: process start-up, which
 * n processes starting together stretch, is not counted), and one's CPU-seconds per second.
 */
async function ffmpegAlone(n: number): Promise<{ minFps: number; cpuPerStream: number }> {
  const frames = 600;
  const { reference } = encoderCommands({ width: 1280, height: 720, fps: 30, videoBitrate: '2500k', audioBitrate: '128k' }, frames, { realtime: true });
  const runs = Array.from({ length: n }, async (_, i) => {
    const timeFile = path.join(os.tmpdir(), `issue14-alone-${process.pid}-${i}.time`);
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, 'ffmpeg', ...reference], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    let progress = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => (progress = (progress + b.toString()).slice(-4096)));
    const [code] = await once(child, 'close');
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`FFmpeg alone exited ${code}`);
    const [u, s] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    fs.rmSync(timeFile, { force: true });
    const fps = [...progress.matchAll(/^fps=([\d.]+)/gm)].pop()?.[1];
    return { fps: fps ? Number(fps) : frames / seconds, cpu: (u + s) / seconds };
  });
  const done = await Promise.all(runs);
  return { minFps: Math.min(...done.map((d) => d.fps)), cpuPerStream: percentile(done.map((d) => d.cpu), 50) };
}

interface Figures {
  held: number;
  aloneFps8: number;
  ratio: number;
  oursFps: number;
  aloneFps: number;
  cpu: number;
  aloneCpu: number;
  firstMB: number;
  extraMB: number;
  aloneMB: number;
  startP50: number;
  startP95: number;
  stopP50: number;
}

async function once_(run: number): Promise<Figures> {
  console.log(`run ${run + 1}/${RUNS}: FFmpeg alone ×${STREAMS_ALONE}, FFmpeg alone ×1, encode-reference, cpu-split, broadcast, memory, control-latency`);
  const alone8 = await ffmpegAlone(STREAMS_ALONE);
  const alone1 = await ffmpegAlone(1);
  const enc = bench('encode-reference', { SCENE: 'poll', RUNS: '1' });
  const cpu = bench('cpu-split', { SCENE: 'poll', RUNS: '1', BENCH_SECONDS: '20' });
  const broadcast = bench('broadcast', { SCENE: 'poll', PARTS: 'many', MAX_STREAMS: process.env.MAX_STREAMS ?? '8', BENCH_SECONDS: '30' });
  const mem = bench('memory', { STREAMS: '3' });
  const lat = bench('control-latency', { RUNS: '40' });
  const one = mem.match(/^\s+1\s+(\d+)\s+(\d+)\s/m);
  return {
    held: num(broadcast, /held at ≥ 29\.5 fps each: (\d+)/),
    aloneFps8: alone8.minFps,
    ratio: num(enc, /ratio ours\/FFmpeg: ([\d.]+) fps/),
    oursFps: num(enc, /our pipeline[^:]*: ([\d.]+) fps/),
    aloneFps: num(enc, /FFmpeg alone \(lavfi testsrc2\): ([\d.]+) fps/),
    cpu: num(cpu, /our processes: ([\d.]+) CPU-s\/s/),
    aloneCpu: alone1.cpuPerStream,
    firstMB: one ? Number(one[1]) + Number(one[2]) : Number.NaN,
    extraMB: num(mem, /each extra stream: ([\d.]+) MB/),
    aloneMB: num(mem, /FFmpeg alone[^\n]*PSS (\d+) MB/),
    startP50: num(lat, /first SSE frame:\s+p50 ([\d.]+) ms/),
    startP95: num(lat, /first SSE frame:\s+p50 [\d.]+ ms\s+p95 ([\d.]+) ms/),
    stopP50: num(lat, /state gone and closed:\s+p50 ([\d.]+) ms/),
  };
}

async function main() {
  printMachine();
  if (process.env.ONLY_ALONE) {
    const a = await ffmpegAlone(STREAMS_ALONE);
    return console.log(`FFmpeg alone ×${STREAMS_ALONE} at real time: slowest ${fmt(a.minFps, 2)} fps, ${fmt(a.cpuPerStream, 3)} CPU-s/s each`);
  }
  const runs: Figures[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once_(i));
  const rows: Array<[string, string, keyof Figures, number, (keyof Figures | null)?]> = [
    ['1. streams held at ≥ 29.5 fps', '≥ 8', 'held', 0, null],
    [`   FFmpeg alone ×${STREAMS_ALONE} at real time, slowest fps`, '≥ 29.5', 'aloneFps8', 1, null],
    ['2. uncapped fps, ratio to FFmpeg alone', '≥ 0.75', 'ratio', 2, null],
    ['   uncapped fps: ours / FFmpeg alone', '', 'oursFps', 0, 'aloneFps'],
    ['   one stream, CPU-s/s, all our processes / FFmpeg alone', '≤ 0.30', 'cpu', 3, 'aloneCpu'],
    ['3. first stream, web + worker PSS MB', '≤ 250', 'firstMB', 0, null],
    ['   each extra stream MB / FFmpeg alone PSS', '≤ 40', 'extraMB', 1, 'aloneMB'],
    ['4. start → first SSE frame p50 ms', '≤ 50', 'startP50', 1, null],
    ['   start p95 ms', 'Python 26–65', 'startP95', 1, null],
    ['   stop p50 ms', '≤ 20', 'stopP50', 1, null],
  ];
  console.log(`\nissue 14, ${RUNS} runs (median last):`);
  console.log(`${'figure'.padEnd(58)} ${'goal'.padEnd(13)} ${runs.map((_, i) => `run ${i + 1}`.padStart(13)).join(' ')} ${'median'.padStart(13)}`);
  for (const [label, goal, key, digits, alone] of rows) {
    const cell = (r: Figures) => (alone ? `${fmt(r[key], digits)} / ${fmt(r[alone], digits)}` : fmt(r[key], digits));
    const med = (k: keyof Figures) => percentile(runs.map((r) => r[k]).filter(Number.isFinite), 50);
    const median = alone ? `${fmt(med(key), digits)} / ${fmt(med(alone), digits)}` : fmt(med(key), digits);
    console.log(`${label.padEnd(58)} ${goal.padEnd(13)} ${runs.map((r) => cell(r).padStart(13)).join(' ')} ${median.padStart(13)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
