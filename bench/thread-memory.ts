// Issue 14, memory of the render threads: N streams' scenes drawn at 30 fps (1280×720 poll, the
// readback of each frame as the broadcast does, a minor GC after each frame) either in N threads
// of their own (what the worker does today: one isolate per stream) or all in one thread. Prints
// the process RSS after SETTLE_SECONDS (12) for 1..STREAMS (3) streams each way: what "several
// streams per render thread" would save per extra stream. No FFmpeg here (bench/memory.ts).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../test/helpers/proc.js';
import { fmt, printMachine } from './lib/stats.js';

const STREAMS = Number(process.env.STREAMS ?? 3);
const SETTLE = Number(process.env.SETTLE_SECONDS ?? 12) * 1000;

// One child process per measurement (a clean heap each time), running this program.
const CHILD = `
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import fs from 'node:fs';
const dist = ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/render/')).href)};
const rss = () => Number(/^Rss:\\s+(\\d+)/m.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]) / 1024;
const body = async () => {
  const { createCanvas } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'node_modules/@napi-rs/canvas/index.js')).href)});
  const { registerFonts } = await import(dist + 'fonts.js');
  const { getScene } = await import(dist + 'scenes/index.js');
  registerFonts();
  const scene = getScene('poll');
  const streams = Array.from({ length: workerData.canvases }, () => ({ c: createCanvas(1280, 720), st: scene.state?.() }));
  const t0 = performance.now();
  let frame = 0;
  setInterval(() => {
    frame += 1;
    for (const s of streams) {
      scene.draw(s.c.getContext('2d'), { width: 1280, height: 720, frame, timeMs: performance.now() - t0, startedMs: Date.now(), streamKey: 'bench', fps: 30, effects: true }, s.st?.frame(performance.now()));
      s.c.data();
    }
    globalThis.gc({ type: 'minor' });
  }, 33);
};
if (isMainThread) {
  const [mode, n] = [process.argv[2], Number(process.argv[3])];
  const spawn = (canvases) => new Worker(new URL(import.meta.url), { workerData: { canvases } });
  if (mode === 'threads') for (let i = 0; i < n; i++) spawn(1);
  else if (n > 0) spawn(n);
  setTimeout(() => { console.log(rss().toFixed(1)); process.exit(0); }, ${SETTLE});
} else await body();
`;

function measure(mode: 'threads' | 'shared', n: number, file: string): number {
  const out = execFileSync(process.execPath, ['--expose-gc', file, mode, String(n)], { cwd: ROOT, encoding: 'utf8' });
  return Number(out.trim().split('\n').at(-1));
}

function main() {
  printMachine();
  spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const file = path.join(ROOT, `.bench-thread-memory-${process.pid}.mjs`);
  fs.writeFileSync(file, CHILD);
  try {
    const base = measure('threads', 0, file);
    console.log(`thread-memory: RSS of one process drawing N 1280×720 30 fps poll scenes (no FFmpeg); the process alone ${fmt(base, 0)} MB`);
    for (const mode of ['threads', 'shared'] as const) {
      const rss = Array.from({ length: STREAMS }, (_, i) => measure(mode, i + 1, file));
      const extra = STREAMS > 1 ? (rss.at(-1)! - rss[0]) / (STREAMS - 1) : NaN;
      console.log(`${mode === 'threads' ? 'a thread per stream ' : 'one thread, N scenes'}: ${rss.map((r, i) => `${i + 1}: ${fmt(r, 0)} MB`).join(', ')}; each extra stream +${fmt(extra, 1)} MB`);
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
}

main();
