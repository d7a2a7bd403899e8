// Render time per frame of the poll scene, per phase of the show, at 1280×720 (the broadcast
// size): the draw alone, and draw + reading the raw pixels (what the pipeline hands FFmpeg).
// Single thread, no FFmpeg: a steady figure on a shared machine, unlike the full broadcast bench.
// FRAMES (default 600 per phase), WIDTH/HEIGHT, EFFECTS=off (the shed ladder's step without the
// scene's optional effects, issue 13), and SCENE_MODULE (another build of the scene,
// e.g. the one before the show, for a before/after) tune it.
import { createCanvas } from '@napi-rs/canvas';
import { registerFonts } from '../src/render/fonts.js';
import { buildView, toOptions } from '../src/polls/tally.js';
import type { PollDef } from '../src/polls/types.js';
import { fmt, percentile, printMachine } from './lib/stats.js';

const FRAMES = Number(process.env.FRAMES ?? 600);
const W = Number(process.env.WIDTH ?? 1280);
const H = Number(process.env.HEIGHT ?? 720);
const EFFECTS = process.env.EFFECTS !== 'off';
const mod = await import(process.env.SCENE_MODULE ?? '../src/render/scenes/poll.js');
const scene = mod.createPollScene();

const T0 = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const def = (labels: string[], over: Partial<PollDef> = {}): PollDef => ({
  id: 1,
  question: 'Who wins the final round on the frozen bridge?',
  options: toOptions({ question: '', options: labels }),
  createdAt: iso(T0 - 60_000),
  endsAt: iso(T0 + 600_000),
  closedAt: null,
  ...over,
});
const four = ['Ryu', 'Ken', 'Chun-Li', 'Akuma'];
const counts = { A: 1234, B: 987, C: 321, D: 45 };
const revealed = { endsAt: iso(T0 - 2000), closedAt: iso(T0 - 2000), revealAt: iso(T0 - 500), revealUntil: iso(T0 + 600_000) };
const cases: [string, PollDef, Record<string, number>, boolean][] = [
  ['voting, 4 options', def(four), counts, false],
  ['voting, 4 options + QR', def(four), counts, true],
  ['voting, 2 options', def(['Scorpion', 'Sub-Zero']), { A: 10, B: 12 }, false],
  ['voting, long text (3)', def(['A long option label that will not fit next to its counts at all', 'Short', 'Another long one, to wrap'], { question: 'A very long question that needs two lines or even three to say everything it wants to say about the round?' }), { A: 3, B: 2, C: 1 }, false],
  ['closed', def(four, { endsAt: iso(T0 - 500) }), counts, false],
  ['reveal + confetti + QR', def(four, revealed), counts, true],
];

registerFonts();
printMachine?.();
console.log(`poll scene render time per frame, ${W}x${H}, ${FRAMES} frames per phase, effects ${EFFECTS ? 'on' : 'off'} (ms)`);
// CPU time per frame is the figure to compare on a busy machine (wall-clock percentiles include
// the time other processes held the core); run with NODE_OPTIONS=--expose-gc as the render thread frees each frame.
console.log('phase                        cpu/frame | draw p50   p95   p99 | +pixels p50   p95');
for (const [name, d, c, qr] of cases) {
  const state = scene.state();
  const poll = buildView(d, c, T0);
  // A scene from before the show takes the bare poll.
  state.set(process.env.SCENE_MODULE ? poll : { poll, show: { voteUrl: qr ? 'https://polls.example.com/vote' : null } });
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  const draw: number[] = [];
  const full: number[] = [];
  let cpu = 0;
  for (let i = 0; i < FRAMES + 30; i++) {
    const t = T0 + i * 33.3;
    const info = { width: W, height: H, frame: i, timeMs: t, startedMs: T0, streamKey: 'bench', fps: 30, effects: EFFECTS };
    const c0 = process.cpuUsage();
    const a = performance.now();
    scene.draw(ctx, info, state.frame(t));
    const b = performance.now();
    canvas.data();
    const e = performance.now();
    if (i >= 30) {
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1000;
      draw.push(b - a);
      full.push(e - a);
    }
    (globalThis as { gc?: (o?: object) => void }).gc?.({ type: 'minor' });
  }
  console.log(
    `${name.padEnd(28)} ${fmt(cpu / FRAMES, 2).padStart(9)} | ${fmt(percentile(draw, 50), 2).padStart(8)} ${fmt(percentile(draw, 95), 2).padStart(5)} ${fmt(percentile(draw, 99), 2).padStart(5)} | ${fmt(percentile(full, 50), 2).padStart(11)} ${fmt(percentile(full, 95), 2).padStart(5)}`,
  );
}
