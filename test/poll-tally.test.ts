// Pure poll arithmetic and the micro-batcher.
import { expect } from 'chai';
import { MicroBatcher } from '../src/polls/batcher.js';
import { buildView, mergeView, percentages, resolveOption, toOptions } from '../src/polls/tally.js';
import type { PollDef } from '../src/polls/types.js';

const def: PollDef = {
  id: 7,
  question: 'Who wins?',
  options: toOptions({ question: 'Who wins?', options: ['Ryu', 'Ken', 'Chun-Li'] }),
  createdAt: '2026-01-01T00:00:00.000Z',
  endsAt: null,
  closedAt: null,
};

describe('poll tally', () => {
  it('percentages are whole numbers adding up to 100 (largest remainder)', () => {
    expect(percentages([0, 0, 0])).to.deep.equal([0, 0, 0]);
    expect(percentages([1, 1, 1])).to.deep.equal([34, 33, 33]);
    expect(percentages([2, 1])).to.deep.equal([67, 33]);
    expect(percentages([1, 0])).to.deep.equal([100, 0]);
    expect(percentages([1, 2, 3, 4])).to.deep.equal([10, 20, 30, 40]);
    for (let i = 0; i < 200; i++) {
      const counts = Array.from({ length: 2 + (i % 3) }, (_, j) => (i * 37 + j * 101) % 97);
      if (counts.every((c) => c === 0)) continue;
      expect(percentages(counts).reduce((a, b) => a + b, 0)).to.equal(100);
    }
  });

  it('builds a view with keys A, B, C and ignores junk counts', () => {
    const v = buildView(def, { A: '3', B: 1, C: undefined, Z: 9 } as any);
    expect(v.options).to.deep.equal([
      { key: 'A', label: 'Ryu', votes: 3, percent: 75 },
      { key: 'B', label: 'Ken', votes: 1, percent: 25 },
      { key: 'C', label: 'Chun-Li', votes: 0, percent: 0 },
    ]);
    expect(v.total).to.equal(4);
    expect(buildView(def, { A: -4, B: 'x' } as any).total).to.equal(0);
  });

  it('merges out-of-order updates by keeping the larger count, and newer polls win', () => {
    const a = buildView(def, { A: 5, B: 2 });
    const older = buildView(def, { A: 4, B: 3 });
    expect(mergeView(a, older).options.map((o) => o.votes)).to.deep.equal([5, 3, 0]);
    expect(mergeView(a, a)).to.equal(a); // unchanged: same object
    const next = buildView({ ...def, id: 8 }, {});
    expect(mergeView(a, next)).to.equal(next);
    expect(mergeView(next, a)).to.equal(next);
    expect(mergeView(next, a, { replace: true })).to.equal(a);
    expect(mergeView(null, a)).to.equal(a);
  });

  it('resolves an option by key (any case) or exact label', () => {
    expect(resolveOption(def, 'b')?.label).to.equal('Ken');
    expect(resolveOption(def, ' Chun-Li ')?.key).to.equal('C');
    expect(resolveOption(def, 'ken')).to.equal(undefined);
    expect(resolveOption(def, 'D')).to.equal(undefined);
  });
});

describe('micro-batcher', () => {
  it('sends one item at once when idle, and groups what arrives while a batch is in flight', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const b = new MicroBatcher<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
        return items.map((i) => i * 10);
      },
      { maxBatch: 100, concurrency: 1 },
    );
    const first = b.submit(1);
    await new Promise((r) => setImmediate(r));
    const rest = Array.from({ length: 250 }, (_, i) => b.submit(i + 2));
    release();
    expect(await first).to.equal(10);
    expect(await Promise.all(rest)).to.deep.equal(Array.from({ length: 250 }, (_, i) => (i + 2) * 10));
    expect(batches.map((x) => x.length)).to.deep.equal([1, 100, 100, 50]);
    await b.drain();
    expect(b.pending).to.equal(0);
  });

  it('fails every item of a batch that fails, and carries on', async () => {
    let fail = true;
    const b = new MicroBatcher<number, number>(
      async (items) => {
        if (fail) throw new Error('db down');
        return items;
      },
      { maxBatch: 10, concurrency: 2 },
    );
    const r = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(r.map((x) => x.status)).to.deep.equal(['rejected', 'rejected']);
    fail = false;
    expect(await b.submit(3)).to.equal(3);
  });
});
