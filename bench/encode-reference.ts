// Our pipeline's ceiling against FFmpeg's own: 600 frames at 1280×720 encoded with the broadcast's
// exact settings (buildEncoderArgs), (a) by FFmpeg alone from lavfi testsrc2, (b) rendered by our
// canvas scene and piped raw to FFmpeg as fast as it takes them. Prints both fps, the ratio, and
// CPU-milliseconds per frame of each (FFmpeg's from /usr/bin/time, ours adds this process, and is
// also printed split: the same encoder on our frames, and our render): CPU per frame is the
// steadier figure on a shared machine. SCENE=testcard|poll (a live 4-option poll with
// its QR code), RUNS (default 1: the median is printed). Our frames go to FFmpeg as the render
// thread sends them: I420 converted by libyuv (native/yuv) when it is built, else RGBA that FFmpeg
// converts; YUV_CONVERT=off forces the latter (issue 14). The path used is printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createCanvas } from '@napi-rs/canvas';
import { encoderCommands } from './lib/ffmpeg-alone.js';
import { registerFonts } from '../src/render/fonts.js';
import { testcard } from '../src/render/scenes/testcard.js';
import { createPollScene } from '../src/render/scenes/poll.js';
import { buildView, toOptions } from '../src/polls/tally.js';
import type { Scene } from '../src/render/scene.js';
import { I420Converter, yuvPath } from '../src/render/yuv.js';
import { fmt, percentile, printMachine } from './lib/stats.js';

const SCENE = process.env.SCENE ?? 'testcard';
const RUNS = Number(process.env.RUNS ?? 1);
// As the render thread does: a young-generation GC after each frame frees its pixel buffer.
v8.setFlagsFromString('--expose-gc');
const minorGc = vm.runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void;

function sceneAndData(started: number): { scene: Scene<any, any>; frame: (t: number) => unknown } {
  if (SCENE !== 'poll') return { scene: testcard, frame: () => undefined };
  const scene = createPollScene();
  const state = scene.state!();
  const iso = (ms: number) => new Date(ms).toISOString();
  const def = { id: 1, question: 'Who wins the final round on the frozen bridge?', options: toOptions({ question: '', options: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'] }), createdAt: iso(started - 60_000), endsAt: iso(started + 3_600_000), closedAt: null };
  state.set({ poll: buildView(def, { A: 1234, B: 987, C: 321, D: 45 }, started), show: { voteUrl: 'https://polls.example.com/vote' } });
  return { scene, frame: (t) => state.frame(t) };
}

const FRAMES = 600;
const W = 1280;
const H = 720;
const FPS = 30;
const yuv = yuvPath(process.env.YUV_CONVERT === 'off' ? 'off' : 'auto');
const settings = { width: W, height: H, fps: FPS, videoBitrate: '2500k', audioBitrate: '128k', inputPixFmt: yuv.addon ? ('yuv420p' as const) : ('rgba' as const) };

/** fps, and CPU-ms per frame: FFmpeg's, this process's while feeding it (0 for FFmpeg alone), and both together. */
interface Run {
  fps: number;
  cpuMs: number;
  ffmpegMs: number;
  feederMs: number;
}

async function run(args: string[], feed?: (stdin: NodeJS.WritableStream) => Promise<void>): Promise<Run> {
  const timeFile = path.join(os.tmpdir(), `encode-reference-${process.pid}.time`);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, 'ffmpeg', ...args], { stdio: ['pipe', 'ignore', 'inherit', 'ignore'] });
  if (feed) await feed(child.stdin!);
  else child.stdin!.end();
  const [code] = await once(child, 'close');
  const self = feed ? process.cpuUsage(c0) : { user: 0, system: 0 };
  if (code !== 0) throw new Error(`ffmpeg exited ${code}`);
  const [u, sys] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  fs.rmSync(timeFile, { force: true });
  const ffmpegMs = ((u + sys) * 1000) / FRAMES;
  const feederMs = (self.user + self.system) / 1000 / FRAMES;
  return { fps: FRAMES / ((performance.now() - t0) / 1000), cpuMs: ffmpegMs + feederMs, ffmpegMs, feederMs };
}

async function main() {
  printMachine();
  const { stdin: ours, reference } = encoderCommands(settings, FRAMES);

  registerFonts();
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  const converter = yuv.addon ? new I420Converter(yuv.addon, W, H) : null;
  /** What the encoder's stdin gets for one rendered frame, and what to do once it is written. */
  const toInput = (rgba: Buffer): [Buffer, () => void] => {
    if (!converter) return [rgba, () => {}];
    const out = converter.convert(rgba);
    return [out, () => converter.written(out)];
  };
  const refs: Run[] = [];
  const ourRuns: Run[] = [];
  // Alternated, so both see the same load on a shared machine.
  for (let r = 0; r < RUNS; r++) {
    refs.push(await run(reference));
    ourRuns.push(
      await run(ours, async (stdin) => {
        const started = Date.now();
        const { scene, frame } = sceneAndData(started);
        for (let n = 0; n < FRAMES; n++) {
          const t = started + (n * 1000) / FPS;
          scene.draw(ctx, { width: W, height: H, frame: n, timeMs: t, startedMs: started, streamKey: 'bench', fps: FPS }, frame(t));
          const [frameBytes, written] = toInput(canvas.data());
          const ok = stdin.write(frameBytes, written);
          minorGc({ type: 'minor' });
          if (!ok) await once(stdin, 'drain');
        }
        stdin.end();
      }),
    );
  }
  const med = (xs: Run[], k: keyof Run) => percentile(xs.map((x) => x[k]), 50);
  const refFps = med(refs, 'fps');
  const oursFps = med(ourRuns, 'fps');
  console.log(`encode-reference: ${FRAMES} frames ${W}x${H}, scene ${SCENE}, libx264 ultrafast zerolatency threads 2 CBR 2500k + AAC, uncapped, median of ${RUNS}`);
  console.log(`FFmpeg alone (lavfi testsrc2): ${fmt(refFps)} fps, ${fmt(med(refs, 'cpuMs'), 2)} CPU-ms/frame`);
  console.log(`frames to the encoder: ${yuv.describe}`);
  console.log(`our pipeline (canvas scene → raw ${settings.inputPixFmt === 'yuv420p' ? 'I420 (libyuv)' : 'RGBA'} → FFmpeg): ${fmt(oursFps)} fps, ${fmt(med(ourRuns, 'cpuMs'), 2)} CPU-ms/frame`);
  // Where our CPU per frame goes: the same encoder on our frames (x264's work depends on the picture), and the render.
  console.log(`our CPU per frame: FFmpeg ${fmt(med(ourRuns, 'ffmpegMs'), 2)} ms (FFmpeg alone ${fmt(med(refs, 'ffmpegMs'), 2)}, with its testsrc2), render + readback + I420 + pipe ${fmt(med(ourRuns, 'feederMs'), 2)} ms`);
  console.log(`ratio ours/FFmpeg: ${fmt(oursFps / refFps, 2)} fps, ${fmt(med(refs, 'cpuMs') / med(ourRuns, 'cpuMs'), 2)} by CPU per frame (real time needs ${FPS} fps: ${fmt(oursFps / FPS, 1)}× headroom)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
