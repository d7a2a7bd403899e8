// The poll scene: golden images of known states (compared pixel by pixel within a small
// tolerance), the easing, its per-stream state, and data handed to a real render thread.
// Regenerate the references after an intended change: UPDATE_GOLDEN=1 npx mocha test/poll-scene.test.ts
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { registerFonts } from '../src/render/fonts.js';
import type { FrameInfo } from '../src/render/scene.js';
import { getScene, sceneIds } from '../src/render/scenes/index.js';
import { countdownText, drawPoll, easeTowards, pollSceneState, shares, type PollSceneData, type PollSceneInput } from '../src/render/scenes/poll.js';
import { pollPhase } from '../src/render/scenes/poll-phase.js';
import { ThreadedPipeline } from '../src/render/threaded-pipeline.js';
import { buildView, toOptions } from '../src/polls/tally.js';
import type { PollDef } from '../src/polls/types.js';

const GOLDEN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const T0 = Date.parse('2026-01-01T12:00:00.000Z');

const frame = (over: Partial<FrameInfo> = {}): FrameInfo => ({
  width: 1280,
  height: 720,
  frame: 0,
  timeMs: T0,
  startedMs: T0 - 60_000,
  streamKey: 'golden',
  fps: 30,
  ...over,
});

function def(over: Partial<PollDef> & { labels: string[] }): PollDef {
  const { labels, ...rest } = over;
  return {
    id: 42,
    question: 'Who wins: Ryu or Ken?',
    options: toOptions({ question: '', options: labels }),
    createdAt: new Date(T0 - 55_000).toISOString(),
    endsAt: null,
    closedAt: null,
    ...rest,
  };
}

/** Renders what a stream's state would draw at `info.timeMs` after the poll was handed in (bars settled). */
function renderInput(input: PollSceneInput, info = frame()): Buffer {
  const state = pollSceneState();
  state.set(input);
  state.frame(info.timeMs - 10_000);
  return render(state.frame(info.timeMs), info);
}

const iso = (ms: number) => new Date(ms).toISOString();
/** A poll closed 3 s before T0, its reveal from 1.5 s before T0 for 8 s. */
const revealTimes = { endsAt: iso(T0 - 3000), closedAt: iso(T0 - 3000), revealAt: iso(T0 - 1500), revealUntil: iso(T0 + 6500) };

function render(data: PollSceneData, info = frame()): Buffer {
  registerFonts();
  const canvas = createCanvas(info.width, info.height);
  drawPoll(canvas.getContext('2d'), info, data);
  return canvas.toBuffer('image/png');
}

/** Share of pixels whose colour differs by more than `threshold` on any channel, and the worst difference. */
async function pixelDiff(a: Buffer, b: Buffer, threshold = 24): Promise<{ ratio: number; max: number }> {
  const [ia, ib] = await Promise.all([loadImage(a), loadImage(b)]);
  expect([ia.width, ia.height]).to.deep.equal([ib.width, ib.height]);
  const pixels = (img: typeof ia) => {
    const c = createCanvas(img.width, img.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    return ctx.getImageData(0, 0, img.width, img.height).data;
  };
  const pa = pixels(ia);
  const pb = pixels(ib);
  let differ = 0;
  let max = 0;
  for (let i = 0; i < pa.length; i += 4) {
    const d = Math.max(Math.abs(pa[i] - pb[i]), Math.abs(pa[i + 1] - pb[i + 1]), Math.abs(pa[i + 2] - pb[i + 2]), Math.abs(pa[i + 3] - pb[i + 3]));
    if (d > threshold) differ++;
    if (d > max) max = d;
  }
  return { ratio: differ / (pa.length / 4), max };
}

async function expectGolden(name: string, png: Buffer, outDir: string): Promise<void> {
  const ref = path.join(GOLDEN_DIR, name);
  fs.writeFileSync(path.join(outDir, name), png); // to look at when it fails
  if (process.env.UPDATE_GOLDEN || !fs.existsSync(ref)) {
    if (!process.env.UPDATE_GOLDEN) throw new Error(`no golden image ${ref}; run with UPDATE_GOLDEN=1 to create it`);
    fs.mkdirSync(GOLDEN_DIR, { recursive: true });
    fs.writeFileSync(ref, png);
  }
  const { ratio } = await pixelDiff(png, fs.readFileSync(ref));
  expect(ratio, `${name}: ${(ratio * 100).toFixed(3)}% of pixels differ (see ${outDir})`).to.be.at.most(0.002);
}

describe('poll scene', function () {
  this.timeout(20_000);
  const outDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'sf-poll-scene-'));

  it('is registered as "poll"', () => {
    expect(sceneIds()).to.include('poll');
    expect(getScene('poll')?.state).to.be.a('function');
  });

  it('matches the golden image: four options, counts, percentages, countdown', async () => {
    const poll = buildView(def({ labels: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'], endsAt: new Date(T0 + 65_000).toISOString() }), { A: 1234, B: 987, C: 321, D: 45 });
    await expectGolden('poll-scene-4-options.png', render({ poll, shown: shares(poll) }), outDir);
  });

  it('matches the golden image: a long question on two lines, two options mid-animation', async () => {
    const poll = buildView(
      def({ id: 7, question: 'Scorpion versus Sub-Zero on the frozen bridge at midnight, final round, no meter left: who takes it?', labels: ['Scorpion', 'Sub-Zero'] }),
      { A: 1, B: 2 },
    );
    await expectGolden('poll-scene-2-options.png', render({ poll, shown: [0.2, 0.5] }), outDir);
  });

  it('matches the golden images of each phase: closed, reveal (winner), reveal (tie), with and without the QR code', async () => {
    const labels = ['Ryu', 'Ken', 'Chun-Li'];
    const counts = { A: 12, B: 30, C: 5 };
    const closed = buildView(def({ labels, endsAt: iso(T0 - 500) }), counts, T0);
    expect(closed.phase).to.equal('closed');
    await expectGolden('poll-scene-closed.png', renderInput({ poll: closed }), outDir);
    const reveal = buildView(def({ labels, ...revealTimes }), counts, T0);
    expect(reveal.phase).to.equal('reveal');
    expect(reveal.winner).to.deep.equal({ keys: ['B'], labels: ['Ken'], votes: 30, tie: false });
    await expectGolden('poll-scene-reveal.png', renderInput({ poll: reveal }), outDir);
    await expectGolden('poll-scene-reveal-qr.png', renderInput({ poll: reveal, show: { voteUrl: 'https://polls.example.com/vote' } }), outDir);
    const tie = buildView(def({ labels: ['Ryu', 'Ken'], ...revealTimes }), { A: 30, B: 30 }, T0);
    expect(tie.winner?.tie).to.equal(true);
    await expectGolden('poll-scene-reveal-tie.png', renderInput({ poll: tie }), outDir);
    // Reveal animation: the banner slides in, so the picture half a second in differs from later.
    const early = renderInput({ poll: reveal }, frame({ timeMs: Date.parse(revealTimes.revealAt) + 100 }));
    expect((await pixelDiff(early, renderInput({ poll: reveal }))).ratio).to.be.greaterThan(0.01);
  });

  it('matches the golden images: three options with the QR code, and long text that wraps and never overflows', async () => {
    const three = buildView(def({ labels: ['Rushdown', 'Zoning', 'Grappler'], endsAt: iso(T0 + 8_000) }), { A: 10, B: 5, C: 7 });
    await expectGolden('poll-scene-3-options-qr.png', renderInput({ poll: three, show: { voteUrl: 'https://polls.example.com/vote' } }), outDir);
    const long = buildView(
      def({
        question: 'Scorpion versus Sub-Zero on the frozen bridge at midnight, final round, no meter left: who takes it when the lights go out and the crowd goes silent?',
        labels: ['A long option label that will not fit next to its counts at all, really, it goes on', 'Short', 'Another option that is rather long indeed'],
        endsAt: iso(T0 + 65_000),
      }),
      { A: 3, B: 2, C: 1 },
    );
    await expectGolden('poll-scene-long-text.png', renderInput({ poll: long }), outDir);
    const longTwo = buildView(def({ labels: ['The fighter with the longest name you have ever seen on a poll', 'And the other one, also with a really long name'], endsAt: iso(T0 + 65_000) }), { A: 3, B: 2 });
    await expectGolden('poll-scene-long-2-options.png', renderInput({ poll: longTwo }), outDir);
  });

  it('the QR code on air decodes to the vote address (zbarimg), at 720p and 1080p', () => {
    const url = 'https://polls.example.com/vote';
    const poll = buildView(def({ labels: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'], endsAt: iso(T0 + 65_000) }), { A: 1234, B: 987, C: 321, D: 45 });
    for (const size of [{ width: 1280, height: 720 }, { width: 1920, height: 1080 }]) {
      const file = path.join(outDir, `qr-${size.height}.png`);
      fs.writeFileSync(file, renderInput({ poll, show: { voteUrl: url } }, frame(size)));
      expect(execFileSync('zbarimg', ['--raw', '-q', file], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim()).to.equal(url);
    }
  });

  it('shows no vote address at all without one', async () => {
    const poll = buildView(def({ labels: ['Ryu', 'Ken'], endsAt: iso(T0 + 65_000) }), {});
    const file = path.join(outDir, 'no-qr.png');
    fs.writeFileSync(file, renderInput({ poll, show: { voteUrl: null } }));
    expect(() => execFileSync('zbarimg', ['--raw', '-q', file], { stdio: 'pipe' })).to.throw();
  });

  it('moves with nobody voting: frames 1 s apart differ (background, clock, countdown, the light on the bars)', async () => {
    const poll = buildView(def({ labels: ['Ryu', 'Ken'], endsAt: iso(T0 + 65_000) }), { A: 3, B: 1 });
    for (const p of [poll, buildView(def({ labels: ['Ryu', 'Ken'], endsAt: null }), {}), buildView(def({ labels: ['Ryu', 'Ken'], ...revealTimes }), { A: 3, B: 1 }, T0)]) {
      const a = renderInput({ poll: p }, frame({ timeMs: T0 }));
      const b = renderInput({ poll: p }, frame({ timeMs: T0 + 1000 }));
      expect((await pixelDiff(a, b, 4)).ratio, `${p.phase} moves`).to.be.greaterThan(0.002);
    }
  });

  it('never holds still with nobody voting: no freeze of 1.5 s by FFmpeg freezedetect (-60 dB) over 2 minutes of its raw frames', async function () {
    // No bar to light: only the drifting slashes, the clock and the countdown move. With the old
    // swaying slashes this found 15 freezes (their turning points); on air at x264's QP floor the
    // poll-broadcast test holds the encoded picture to d=2.
    this.timeout(120_000);
    registerFonts();
    const [w, h, fps, seconds] = [640, 360, 30, 120];
    const state = pollSceneState();
    state.set({ poll: buildView(def({ labels: ['Ryu', 'Ken', 'Chun-Li'], endsAt: iso(T0 + 600_000) }), {}), show: { voteUrl: 'https://show.example.com/vote' } });
    const canvas = createCanvas(w, h);
    const ctx = canvas.getContext('2d');
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-nostats', '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${w}x${h}`, '-r', String(fps), '-i', 'pipe:0', '-vf', 'format=yuv420p,freezedetect=n=-60dB:d=1.5', '-f', 'null', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let log = '';
    ffmpeg.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => ffmpeg.on('close', resolve));
    for (let i = 0; i < seconds * fps; i++) {
      const t = T0 + (i * 1000) / fps;
      drawPoll(ctx, frame({ width: w, height: h, frame: i, timeMs: t }), state.frame(t));
      if (!ffmpeg.stdin.write(canvas.data())) await once(ffmpeg.stdin, 'drain');
    }
    ffmpeg.stdin.end();
    expect(await exited, log.slice(-2000)).to.equal(0);
    expect(log, 'frames went through the filter').to.match(/frame=\s*3600/);
    expect(log.split('\n').filter((l) => l.includes('freeze_start'))).to.deep.equal([]);
  });

  it('sheds its optional effects (issue 13): without them the same layout, no drifting slashes, no light on the bars, no confetti', async () => {
    const poll = buildView(def({ labels: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'], endsAt: new Date(T0 + 65_000).toISOString() }), { A: 1234, B: 987, C: 321, D: 45 });
    const on = renderInput({ poll }, frame({ effects: true }));
    const off = renderInput({ poll }, frame({ effects: false }));
    expect((await pixelDiff(on, renderInput({ poll }))).ratio, 'absent: effects on').to.equal(0);
    const d = await pixelDiff(on, off, 4);
    // The slashes cover a fifth of the frame or so; text, bars and badges stay where they are.
    expect(d.ratio, 'the effects are gone').to.be.greaterThan(0.02);
    expect(d.ratio, 'the rest is the same').to.be.below(0.5);
    // One second later without effects: only the clock and the countdown change.
    const later = renderInput({ poll }, frame({ timeMs: T0 + 1000, effects: false }));
    expect((await pixelDiff(off, later, 4)).ratio, 'still apart from the clock').to.be.below(0.01);
    const reveal = buildView(def({ labels: ['Ryu', 'Ken'], ...revealTimes }), { A: 3, B: 1 }, T0);
    expect((await pixelDiff(renderInput({ poll: reveal }, frame({ effects: true })), renderInput({ poll: reveal }, frame({ effects: false })), 4)).ratio, 'confetti gone').to.be.greaterThan(0.02);
  });

  it('phase from the clock: voting → closed → reveal', () => {
    const times = { endsAt: iso(T0), closedAt: null as string | null, revealAt: null as string | null, revealUntil: null as string | null };
    expect(pollPhase(times, T0 - 1)).to.equal('voting');
    expect(pollPhase(times, T0)).to.equal('closed');
    expect(pollPhase({ ...times, endsAt: null }, T0 + 1e9)).to.equal('voting'); // manual: open until closed
    const closed = { ...times, closedAt: iso(T0 + 100), revealAt: iso(T0 + 1500), revealUntil: iso(T0 + 9500) };
    expect(pollPhase(closed, T0 + 1000)).to.equal('closed');
    expect(pollPhase(closed, T0 + 1500)).to.equal('reveal');
    expect(pollPhase(closed, T0 + 60_000)).to.equal('reveal'); // until the next poll replaces it
    expect(pollPhase({ ...closed, revealAt: null, revealUntil: null }, T0 + 2000)).to.equal('closed'); // closed by /api/poll/generate
  });

  it('the comparison notices a real change', async () => {
    const poll = buildView(def({ labels: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'], endsAt: new Date(T0 + 65_000).toISOString() }), { A: 1234, B: 987, C: 321, D: 45 });
    const moved = render({ poll, shown: [0.2, 0.3, 0.4, 0.1] });
    const { ratio } = await pixelDiff(moved, fs.readFileSync(path.join(GOLDEN_DIR, 'poll-scene-4-options.png')));
    expect(ratio).to.be.greaterThan(0.01);
  });

  it('draws the waiting screen, a closed countdown, and odd sizes without failing', async () => {
    render({ poll: null, shown: [] });
    const poll = buildView(def({ labels: ['A long option label that will not fit next to its counts at all, really', 'B'], endsAt: new Date(T0 - 1000).toISOString() }), {});
    render({ poll, shown: [0, 0] });
    render({ poll, shown: [1.5, -1] }, frame({ width: 640, height: 360 }));
    render({ poll, shown: [0.5, 0.5] }, frame({ width: 1920, height: 1080 }));
  });

  it('eases bars towards their share, independent of the frame rate', () => {
    expect(easeTowards([0, 0], [0.5, 1], 0)).to.deep.equal([0, 0]);
    const one = easeTowards([0], [1], 250)[0];
    expect(one).to.be.closeTo(1 - Math.exp(-1), 1e-9);
    // Two frames of 125 ms land where one of 250 ms does.
    expect(easeTowards(easeTowards([0], [1], 125), [1], 125)[0]).to.be.closeTo(one, 1e-9);
    // Close enough snaps to the target; more options than before start at zero.
    expect(easeTowards([0.9999], [1], 16)).to.deep.equal([1]);
    expect(easeTowards([], [0.5], 10_000)).to.deep.equal([0.5]);
    expect(countdownText(65_000)).to.equal('1:05');
    expect(countdownText(64_001)).to.equal('1:05');
    expect(countdownText(3_600_000 + 5_000)).to.equal('1:00:05');
    expect(countdownText(-5)).to.equal('0:00');
  });

  it('its state shows a handed-in poll at the next frame, eases the bars, and starts a new poll from zero', () => {
    const state = pollSceneState({ tauMs: 100 });
    expect(state.frame(T0)).to.include({ poll: null }); // the waiting screen
    const d = def({ id: 900001, labels: ['Ryu', 'Ken'] });
    state.set(buildView(d, { A: 1 }));
    let data = state.frame(T0 + 33);
    expect(data.poll?.options.map((o) => o.votes)).to.deep.equal([1, 0]);
    expect(data.shown[0]).to.be.closeTo(1 - Math.exp(-33 / 100), 1e-9); // from zero, one frame's worth

    state.set(buildView(d, { A: 1, B: 3 }));
    data = state.frame(T0 + 66);
    expect(data.poll?.total).to.equal(4);
    expect(data.shown[1]).to.be.greaterThan(0).and.lessThan(0.75); // on its way
    data = state.frame(T0 + 800);
    expect(data.shown[0]).to.be.closeTo(0.25, 0.01);
    expect(data.shown[1]).to.be.closeTo(0.75, 0.01);

    // The same poll with more votes keeps the bars where they are; a new poll starts from zero.
    state.set(buildView(def({ id: 900002, question: 'Next?', labels: ['X', 'Y', 'Z'] }), {}));
    expect(state.frame(T0 + 833).shown).to.deep.equal([0, 0, 0]);
    state.set(null);
    expect(state.frame(T0 + 866)).to.deep.include({ poll: null, shown: [] });
  });

  it('draws the data handed to a stream\'s render thread (setSceneData), before and after its start', async function () {
    this.timeout(30_000);
    const size = { width: 320, height: 180 };
    // The waiting screen as drawn now (its background slashes drift with the clock).
    const waiting = () => render({ poll: null, shown: [] }, frame({ ...size, timeMs: Date.now() }));
    let last: Buffer | null = null;
    const pipeline = new ThreadedPipeline({
      streamKey: 'scene-data-test',
      screenId: 'poll',
      startedMs: Date.now(),
      preview: { fps: 20, quality: 80, ...size },
      broadcast: null,
      onPreview: (jpeg) => (last = jpeg),
      onFailed: (m) => {
        throw new Error(m);
      },
    });
    const differs = async (ratio: number) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (last && (await pixelDiff(last, waiting())).ratio > ratio) return;
        expect(Date.now(), 'a preview that shows the poll').to.be.lessThan(deadline);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const same = async () => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (last && (await pixelDiff(last, waiting())).ratio < 0.01) return;
        expect(Date.now(), 'a preview of the waiting screen').to.be.lessThan(deadline);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const poll = buildView(def({ labels: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'] }), { A: 5, B: 3 });
    pipeline.setSceneData(poll); // before the thread runs: its first frames already show it
    try {
      await pipeline.start();
      await differs(0.05);
      pipeline.setSceneData(null);
      await same();
      pipeline.setSceneData(poll);
      await differs(0.05);
    } finally {
      await pipeline.stop();
    }
  });
});

/** The largest difference of any byte of `others` from `a`, and the pixels that differ by more than 3. */
function compareTo(a: Buffer, others: Buffer[]): { max: number; differ: Set<number> } {
  let max = 0;
  const differ = new Set<number>();
  for (const b of others)
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      max = Math.max(max, d);
      if (d > 3) differ.add(i >> 2);
    }
  return { max, differ };
}

describe('poll scene: the vote panel drawn from its cache', () => {
  it('gives the pixels of a direct draw, at whole and fractional positions and sizes, and again from the cache', async () => {
    registerFonts();
    const { drawVotePanel, paintVotePanel } = await import('../src/render/scenes/poll-panel.js');
    const { qrMatrix } = await import('../src/render/scenes/poll.js');
    const qr = qrMatrix('https://polls.example.com/vote');
    for (const [w, h, x, y, width, u] of [
      [1280, 720, 960, 116, 264, 1],
      [854, 480, 640.35, 77.33, 176, 480 / 720],
    ] as const) {
      const canvases = [createCanvas(w, h), createCanvas(w, h), createCanvas(w, h)];
      for (const c of canvases) {
        const ctx = c.getContext('2d');
        ctx.fillStyle = '#1c1330';
        ctx.fillRect(0, 0, w, h);
      }
      paintVotePanel(canvases[0].getContext('2d'), qr, 'https://polls.example.com/vote', x, y, width, u);
      // The first draw fills the cache, the second comes from it.
      drawVotePanel(canvases[1].getContext('2d'), qr, 'https://polls.example.com/vote', x, y, width, u);
      drawVotePanel(canvases[2].getContext('2d'), qr, 'https://polls.example.com/vote', x, y, width, u);
      const [a, ...others] = canvases.map((c) => c.data());
      const { max, differ } = compareTo(a, others);
      // The card's anti-aliased edge rounds a little differently (composited in one step or two),
      // and at a fractional offset a few pixels of its rounded corners by more (20 of them at 854×480).
      expect(max, `${w}x${h}`).to.be.at.most(24);
      expect(differ.size, `${w}x${h}: pixels that differ by more than 3`).to.be.below(48);
    }
  });
});

describe('poll scene: the rows drawn over their still layer', () => {
  it('gives the pixels of a direct draw, from the layer and again after the votes change, at whole and fractional sizes', async () => {
    registerFonts();
    const { drawRows } = await import('../src/render/scenes/poll-rows.js');
    const rowsOf = (votes: number[]) =>
      ['Ryu', 'Ken', 'A long option label that wraps onto a second line if it can'].map((label, i) => {
        const total = votes.reduce((a, b) => a + b, 0);
        return { key: 'ABC'[i], label, votes: votes[i], percent: Math.round((100 * votes[i]) / total), share: votes[i] / total, colour: ['#e63946', '#3a86ff', '#ffb703'][i] };
      });
    const t = 1_700_000_000_000;
    for (const [w, h, L, reveal] of [
      [1280, 720, { x: 48, width: 880, top: 250, bottom: 620, u: 1 }, undefined],
      [854, 480, { x: 32.02, width: 587.3, top: 166.67, bottom: 413.4, u: 480 / 720 }, { winners: new Set(['B']), dim: 1, pulse: 0.3 }],
    ] as const) {
      for (const votes of [[5, 3, 1], [5, 4, 1]]) {
        const rows = rowsOf(votes);
        const canvases = [createCanvas(w, h), createCanvas(w, h), createCanvas(w, h)];
        canvases.forEach((c, k) => {
          const ctx = c.getContext('2d');
          ctx.fillStyle = '#1c1330';
          ctx.fillRect(0, 0, w, h);
          // A direct draw, then the layer painted, then the layer reused.
          drawRows(ctx, rows, L, t, reveal, true, k > 0);
        });
        const [a, ...others] = canvases.map((c) => c.data());
        const { max, differ } = compareTo(a, others);
        // Translucent fills composited in two steps round a little differently.
        expect(max, `${w}x${h} ${votes}`).to.be.at.most(24);
        expect(differ.size, `${w}x${h} ${votes}: pixels that differ by more than 3`).to.be.below(48);
      }
    }
  });

  it('shows the new counts when the votes change (the layer is painted again, not reused)', async () => {
    registerFonts();
    const { drawRows } = await import('../src/render/scenes/poll-rows.js');
    const L = { x: 48, width: 880, top: 250, bottom: 620, u: 1 };
    const row = (votes: number) => [{ key: 'A', label: 'Ryu', votes, percent: 100, share: 1, colour: '#e63946' }];
    const draw = (votes: number, cached: boolean) => {
      const c = createCanvas(1280, 720);
      drawRows(c.getContext('2d'), row(votes), L, 0, undefined, false, cached);
      return c.data();
    };
    // Pixels that differ by more than the rounding of a two-step composite.
    const changed = (a: Buffer, b: Buffer) => {
      let n = 0;
      for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 24) n += 1;
      return n;
    };
    const seven = draw(7, true);
    const eight = draw(8, true);
    expect(changed(eight, draw(8, false)), 'the cached 8 against a direct 8').to.equal(0);
    expect(changed(eight, seven), 'the cached 8 against the cached 7').to.be.above(20);
  });
});
