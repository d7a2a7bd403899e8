// Our pipeline's ceiling against FFmpeg's own: 600 frames at 1280×720 encoded with the broadcast's
// exact settings (buildEncoderArgs), (a) by FFmpeg alone from lavfi testsrc2, (b) rendered by our
// canvas scene and piped raw to FFmpeg as fast as it takes them. Prints both fps and the ratio.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createCanvas } from '@napi-rs/canvas';
import { buildEncoderArgs } from '../src/render/ffmpeg/args.js';
import { registerFonts } from '../src/render/fonts.js';
import { testcard } from '../src/render/scenes/testcard.js';
import { fmt, printMachine } from './lib/stats.js';

const FRAMES = 600;
const W = 1280;
const H = 720;
const FPS = 30;
const settings = { width: W, height: H, fps: FPS, videoBitrate: '2500k', audioBitrate: '128k' };

async function run(args: string[], feed?: (stdin: NodeJS.WritableStream) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  const child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'inherit', 'ignore'] });
  if (feed) await feed(child.stdin!);
  else child.stdin!.end();
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`ffmpeg exited ${code}`);
  return FRAMES / ((performance.now() - t0) / 1000);
}

async function main() {
  printMachine();
  const ours = buildEncoderArgs(settings).map((a) => (a === 'pipe:1' ? '/dev/null' : a));
  const out = ours.indexOf('/dev/null');
  ours.splice(out, 0, '-y');
  // Reference: the same argument list with the raw stdin input swapped for lavfi testsrc2.
  const i = ours.indexOf('rawvideo') - 1; // '-f' before 'rawvideo'
  const inputEnd = ours.indexOf('pipe:0') + 1;
  const reference = [...ours.slice(0, i), '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${FPS}`, ...ours.slice(inputEnd)];
  reference.splice(reference.indexOf('/dev/null') - 1, 0, '-frames:v', String(FRAMES));

  const refFps = await run(reference);

  registerFonts();
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  const oursFps = await run(ours, async (stdin) => {
    const started = Date.now();
    for (let n = 0; n < FRAMES; n++) {
      testcard.draw(ctx, { width: W, height: H, frame: n, timeMs: started + (n * 1000) / FPS, startedMs: started, streamKey: 'bench', fps: FPS }, undefined);
      if (!stdin.write(canvas.data())) await once(stdin, 'drain');
    }
    stdin.end();
  });

  console.log(`encode-reference: ${FRAMES} frames ${W}x${H}, libx264 ultrafast zerolatency threads 2 CBR 2500k + AAC, uncapped`);
  console.log(`FFmpeg alone (lavfi testsrc2): ${fmt(refFps)} fps`);
  console.log(`our pipeline (canvas scene → raw RGBA → FFmpeg): ${fmt(oursFps)} fps`);
  console.log(`ratio ours/FFmpeg: ${fmt(oursFps / refFps, 2)} (real time needs ${FPS} fps: ${fmt(oursFps / FPS, 1)}× headroom)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
