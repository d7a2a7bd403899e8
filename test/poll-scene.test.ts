// The poll scene: golden images of known states (compared pixel by pixel within a small
// tolerance), the easing, and the live source against the real Redis.
// Regenerate the references after an intended change: UPDATE_GOLDEN=1 npx mocha test/poll-scene.test.ts
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { Redis } from 'ioredis';
import { registerFonts } from '../src/render/fonts.js';
import type { FrameInfo } from '../src/render/scene.js';
import { getScene, sceneIds } from '../src/render/scenes/index.js';
import { countdownText, createPollScene, drawPoll, easeTowards, shares, type PollSceneData } from '../src/render/scenes/poll.js';
import { PollStore } from '../src/polls/store.js';
import { buildView, toOptions } from '../src/polls/tally.js';
import type { PollDef } from '../src/polls/types.js';
import { deleteKeys, PollHarness, REDIS_URL, uniquePrefix } from './helpers/polls.js';

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
    createdAt: new Date(T0 - 30_000).toISOString(),
    endsAt: null,
    closedAt: null,
    ...rest,
  };
}

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
    expect(getScene('poll')?.source).to.be.a('function');
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

  describe('live source (real Redis)', () => {
    const prefix = uniquePrefix('scene');
    let h: PollHarness;
    let redis: Redis;
    let subscriber: Redis;

    before(() => {
      h = new PollHarness(prefix);
      redis = new Redis(REDIS_URL);
      subscriber = new Redis(REDIS_URL);
    });
    after(async () => {
      await deleteKeys(redis, prefix);
      await h.close();
      redis.disconnect();
      subscriber.disconnect();
    });

    it('shows a new vote within one frame, and eases the bar over the next frames', async () => {
      const store = new PollStore(redis, h.keys);
      const d = def({ id: 900001, labels: ['Ryu', 'Ken'] });
      await store.init(d);
      await store.setCurrent(d.id);
      await store.apply(d.id, [{ voterId: 'v1', option: 'A' }]);

      const scene = createPollScene({ keys: h.keys, tauMs: 100 });
      const source = await scene.source!({ redis, subscriber });
      try {
        let data = source.current();
        expect(data.poll?.id).to.equal(d.id);
        expect(data.poll?.options.map((o) => o.votes)).to.deep.equal([1, 0]);

        // A vote elsewhere: counted in Redis and published, as the poll service does.
        const counts = (await store.apply(d.id, [{ voterId: 'v2', option: 'B' }, { voterId: 'v3', option: 'B' }, { voterId: 'v4', option: 'B' }]))!;
        const t0 = Date.now();
        await store.publish({ type: 'tally', poll: buildView(d, counts) });
        while (source.current().poll?.total !== 4) {
          expect(Date.now() - t0, 'update within one frame period at 30 fps').to.be.lessThan(1000 / 30);
          await new Promise((r) => setTimeout(r, 1));
        }
        data = source.current();
        expect(data.poll?.options.map((o) => o.votes)).to.deep.equal([1, 3]);
        const firstB = data.shown[1];
        expect(firstB).to.be.lessThan(0.75); // still on its way
        await new Promise((r) => setTimeout(r, 700));
        data = source.current();
        expect(data.shown[0]).to.be.closeTo(0.25, 0.01);
        expect(data.shown[1]).to.be.closeTo(0.75, 0.01);

        // A new poll replaces the old one; its bars start from zero.
        const next = def({ id: 900002, question: 'Next?', labels: ['X', 'Y', 'Z'] });
        await store.init(next);
        await store.setCurrent(next.id);
        await store.publish({ type: 'poll', poll: buildView(next, {}), previous: null });
        await new Promise((r) => setTimeout(r, 50));
        data = source.current();
        expect(data.poll?.id).to.equal(next.id);
        expect(data.shown).to.deep.equal([0, 0, 0]);
      } finally {
        await source.close();
        await source.close();
      }
      // Closed: it no longer listens (nothing else subscribed on this connection).
      const channels = (await subscriber.call('PUBSUB', 'NUMSUB', h.keys.events())) as [string, number];
      expect(Number(channels[1])).to.equal(0);
    });

    it('with no poll in Redis it shows the waiting screen, and picks up a poll when one appears', async () => {
      const emptyPrefix = uniquePrefix('scene-empty');
      const h2 = new PollHarness(emptyPrefix);
      const scene = createPollScene({ keys: h2.keys, refreshMs: 100 });
      const source = await scene.source!({ redis, subscriber });
      try {
        expect(source.current().poll).to.equal(null);
        const store = new PollStore(redis, h2.keys);
        const d = def({ id: 900003, labels: ['Ryu', 'Ken'] });
        await store.init(d);
        await store.setCurrent(d.id); // no event: the periodic re-read finds it
        await new Promise((r) => setTimeout(r, 300));
        expect(source.current().poll?.id).to.equal(d.id);
      } finally {
        await source.close();
        await h2.close();
      }
    });
  });
});
