// Issue 14: how the idle preview rate and the shed ladder combine, and the worker's gate
// against real Redis marks (the pipeline is a recorder of the rates it is given).
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { combineRates, PreviewRates } from '../src/jobs/preview-rates.js';
import { markWatched, readWatched, WATCH_TTL_MS } from '../src/streams/preview-watch.js';
import { ratesAt } from '../src/jobs/shed-ladder.js';
import { REDIS_URL, uniqueKey } from './helpers/env.js';

describe('preview rates (issue 14)', () => {
  describe('combineRates', () => {
    it('keeps the shed rates while someone watches', () => {
      expect(combineRates({ renderFps: 30, previewFps: 15, effects: true }, null)).to.deep.equal({ renderFps: 30, previewFps: 15, effects: true });
    });
    it('takes the lower preview rate of the two, and never touches the render rate', () => {
      expect(combineRates({ renderFps: 30, previewFps: 15, effects: true }, 1)).to.deep.equal({ renderFps: 30, previewFps: 1, effects: true });
      expect(combineRates(ratesAt(4, { broadcastFps: 30, previewFps: 15 }), 1)).to.deep.equal({ renderFps: 20, previewFps: 1, effects: false });
      // An idle rate above the shed one changes nothing.
      expect(combineRates({ renderFps: 15, previewFps: 4, effects: true }, 10)).to.deep.equal({ renderFps: 15, previewFps: 4, effects: true });
    });
    it('allows no previews at all (idle 0)', () => {
      expect(combineRates({ renderFps: 30, previewFps: 15, effects: true }, 0).previewFps).to.equal(0);
    });
    it('passes anything else the ladder sets through', () => {
      expect(combineRates({ renderFps: 25, previewFps: 8, effects: false }, 2)).to.deep.equal({ renderFps: 25, previewFps: 2, effects: false });
    });
  });

  describe('the worker gate, with real marks in Redis', () => {
    const redis = new Redis(REDIS_URL);
    after(() => redis.disconnect());

    it('reads the marks of many streams in one go', async () => {
      const [a, b] = [uniqueKey('w'), uniqueKey('w')];
      await markWatched(redis, [a]);
      expect(await readWatched(redis, [a, b])).to.deep.equal([true, false]);
      const ttl = await redis.pttl(keys.previewWatched(a));
      expect(ttl).to.be.within(1, WATCH_TTL_MS);
      await redis.del(keys.previewWatched(a));
    });

    it('lowers an unwatched stream, restores it when watched, and lets the shed ladder go lower', async () => {
      const key = uniqueKey('gate');
      const sent: Array<{ renderFps: number; previewFps: number }> = [];
      const pipeline = { stats: () => ({ frames: 0, dropped: 0 }), setRates: (r: { renderFps: number; previewFps: number }) => void sent.push(r) };
      const rates = new PreviewRates(redis, 1);
      let shed: ((r: { renderFps: number; previewFps: number }) => void) | null = null;
      const off = rates.register({ streamKey: key, pipeline, broadcastFps: 30, previewFps: 15 }, (s) => {
        shed = (r) => s.pipeline.setRates(r);
        return () => {};
      });
      await rates.check();
      expect(sent.at(-1)).to.deep.equal({ renderFps: 30, previewFps: 1, effects: true });
      await rates.check(); // nothing changed: nothing sent
      expect(sent).to.have.length(1);

      await markWatched(redis, [key]);
      await rates.check();
      expect(sent.at(-1)).to.deep.equal({ renderFps: 30, previewFps: 15, effects: true });
      shed!(ratesAt(1, { broadcastFps: 30, previewFps: 15 }));
      expect(sent.at(-1)).to.deep.equal({ renderFps: 30, previewFps: 8, effects: true });

      await redis.del(keys.previewWatched(key));
      await rates.check();
      expect(sent.at(-1)).to.deep.equal({ renderFps: 30, previewFps: 1, effects: true });
      shed!(ratesAt(3, { broadcastFps: 30, previewFps: 15 }));
      expect(sent.at(-1)).to.deep.equal({ renderFps: 25, previewFps: 1, effects: false });
      off();
    });
  });
});
