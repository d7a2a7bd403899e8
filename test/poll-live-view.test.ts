// The live poll view against the real Redis: the one read model every poll reader shares.
// Events merge into it, a new poll is taken and reread, a lost Redis is reread (and restored
// through `missing`), and listeners hear every change once.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { SceneFeeds } from '../src/jobs/scene-feeds.js';
import { PollLiveView } from '../src/polls/live-view.js';
import { PollStore, pollKeys } from '../src/polls/store.js';
import { buildView, toOptions } from '../src/polls/tally.js';
import type { PollDef, PollView } from '../src/polls/types.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from './helpers/polls.js';
import { Subscriber } from '../src/redis/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function def(id: number, labels: string[], question = `Poll ${id}?`): PollDef {
  return { id, question, options: toOptions({ question, options: labels }), createdAt: new Date().toISOString(), endsAt: null, closedAt: null };
}

describe('poll live view (real Redis)', function () {
  this.timeout(20_000);
  let prefix: string;
  let redis: Redis;
  let subscriber: Subscriber;
  let subConn: Redis;
  let store: PollStore;
  const views: PollLiveView[] = [];
  const make = async (opts: Partial<ConstructorParameters<typeof PollLiveView>[0]> = {}) => {
    const v = new PollLiveView({ store, subscriber, refreshMs: 0, ...opts });
    views.push(v);
    await v.start();
    return v;
  };

  beforeEach(() => {
    prefix = uniquePrefix('live');
    redis = new Redis(REDIS_URL);
    subConn = new Redis(REDIS_URL);
    subscriber = new Subscriber(subConn);
    store = new PollStore(redis, pollKeys(prefix));
  });
  afterEach(async () => {
    for (const v of views.splice(0)) await v.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    subConn.disconnect();
  });

  it('reads the current poll at start, and a tally event updates it', async () => {
    const d = def(11, ['Ryu', 'Ken']);
    await store.init(d);
    await store.setCurrent(d.id);
    await store.apply(d.id, [{ voterId: 'v1', option: 'A' }]);
    const live = await make();
    expect(live.current()?.options.map((o) => o.votes)).to.deep.equal([1, 0]);

    const seen: (PollView | null)[] = [];
    live.subscribe((v) => seen.push(v));
    const counts = (await store.apply(d.id, [{ voterId: 'v2', option: 'B' }, { voterId: 'v3', option: 'B' }]))!;
    await store.publish({ type: 'tally', poll: buildView(d, counts) });
    await waitFor('the tally', () => live.current()?.total === 3);
    expect(seen.map((v) => v?.total)).to.deep.equal([3]);

    // Out of order (an older count from another process) changes nothing and tells no one.
    await store.publish({ type: 'tally', poll: buildView(d, { A: 1, B: 1 }) });
    await sleep(50);
    expect(live.current()?.options.map((o) => o.votes)).to.deep.equal([1, 2]);
    expect(seen).to.have.length(1);
  });

  it('takes a new poll from its event and rereads Redis behind it; an older one never replaces it', async () => {
    const live = await make();
    expect(live.current()).to.equal(null);
    const previous: (PollView | null | undefined)[] = [];
    live.subscribe((_v, prev) => previous.push(prev));
    const a = def(21, ['X', 'Y']);
    await store.init(a);
    await store.setCurrent(a.id);
    // Votes counted before the event reaches us: the event says 0, the reread finds them.
    await store.apply(a.id, [{ voterId: 'early', option: 'B' }]);
    await store.publish({ type: 'poll', poll: buildView(a, {}), previous: null });
    await waitFor('the new poll and its votes', () => live.current()?.id === a.id && live.current()?.total === 1);

    const b = def(22, ['P', 'Q', 'R']);
    await store.init(b);
    await store.setCurrent(b.id);
    const closed = { ...buildView(a, { B: 1 }), closedAt: new Date().toISOString() };
    await store.publish({ type: 'poll', poll: buildView(b, {}), previous: closed });
    await waitFor('the next poll', () => live.current()?.id === b.id);
    expect(previous.some((p) => p?.id === a.id && p.closedAt !== null)).to.equal(true);

    await store.publish({ type: 'poll', poll: buildView(a, {}), previous: null }); // stale
    await sleep(50);
    expect(live.current()?.id).to.equal(b.id);
    // A tally of a poll we never heard of (its 'poll' event was missed) makes us reread.
    const c = def(23, ['M', 'N']);
    await store.init(c);
    await store.setCurrent(c.id);
    await store.publish({ type: 'tally', poll: buildView(c, { M: 0 }) });
    await waitFor('the reread poll', () => live.current()?.id === c.id);
  });

  it('rereads after its subscriber reconnects (messages missed meanwhile)', async () => {
    const d = def(31, ['A', 'B']);
    await store.init(d);
    await store.setCurrent(d.id);
    const live = await make(); // no timer: only the reconnect can bring the change
    expect(live.current()?.total).to.equal(0);
    // Counted without an event reaching us (as if published while we were away)...
    await store.apply(d.id, [{ voterId: 'v1', option: 'A' }, { voterId: 'v2', option: 'A' }]);
    await sleep(50);
    expect(live.current()?.total).to.equal(0);
    subConn.disconnect(true); // ...then the connection drops; ioredis reconnects and resubscribes
    await waitFor('the reread after the reconnect', () => live.current()?.total === 2);
  });

  it('after Redis lost the poll: shows none, or what `missing` restores; keeps the view while Redis is away', async () => {
    const d = def(41, ['A', 'B']);
    await store.init(d);
    await store.setCurrent(d.id);
    await store.apply(d.id, [{ voterId: 'v1', option: 'B' }]);
    const plain = await make();
    let restored = 0;
    const withRecord = await make({
      missing: async () => {
        restored += 1;
        await store.init(d); // as the poll service rebuilds from Postgres
        await store.apply(d.id, [{ voterId: 'v1', option: 'B' }]);
        await store.setCurrent(d.id);
        return buildView(d, { B: 1 });
      },
    });
    await deleteKeys(redis, prefix);
    expect(await plain.refresh()).to.equal(null);
    const back = await withRecord.refresh();
    expect(back?.options.map((o) => o.votes)).to.deep.equal([0, 1]);
    expect(restored).to.equal(1);
    expect(await redis.get(store.k.current())).to.equal(String(d.id));

    // Redis unreachable: a reread fails, the view stays, fresh() serves it while it is young.
    const away = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    const offline = new PollLiveView({ store: new PollStore(away, pollKeys(prefix)), refreshMs: 0 });
    offline.apply(back!, { authoritative: true });
    let failed = false;
    await offline.refresh().catch(() => (failed = true));
    expect(failed).to.equal(true);
    expect(offline.current()?.id).to.equal(d.id);
    expect((await offline.fresh(60_000))?.id).to.equal(d.id);
    await offline.close();
    away.disconnect();
  });

  it('fresh() rereads an invalidated view; apply() shows this process\'s changes at once', async () => {
    const d = def(51, ['A', 'B']);
    await store.init(d);
    await store.setCurrent(d.id);
    const live = await make({ subscriber: undefined, refreshMs: 60_000 });
    await store.apply(d.id, [{ voterId: 'v1', option: 'A' }]);
    expect((await live.fresh())?.total).to.equal(0); // trusted for a minute
    live.invalidate();
    expect((await live.fresh())?.total).to.equal(1);
    let told = 0;
    live.subscribe(() => told++);
    live.apply(buildView(d, { A: 1, B: 5 }));
    expect(live.current()?.total).to.equal(6);
    expect(told).to.equal(1);
  });

  it("a worker's scene feeds: one view for every poll stream, pushed at once and on every change", async () => {
    const d = def(61, ['A', 'B']);
    await store.init(d);
    await store.setCurrent(d.id);
    const feeds = new SceneFeeds({ redis, subscriber }, { keys: pollKeys(prefix), refreshMs: 0 });
    try {
      const other: unknown[] = [];
      feeds.feed('testcard', (x) => other.push(x))();
      const got: (PollView | null)[][] = [[], []];
      const offs = got.map((list) => feeds.feed('poll', (x) => list.push((x as { poll: PollView | null }).poll)));
      expect(got[0][0]).to.equal(null); // at once: nothing read yet
      await waitFor('the first read', () => got.every((l) => l.at(-1)?.id === d.id));
      const counts = (await store.apply(d.id, [{ voterId: 'v', option: 'B' }]))!;
      await store.publish({ type: 'tally', poll: buildView(d, counts) });
      await waitFor('the tally on both streams', () => got.every((l) => l.at(-1)?.total === 1));
      offs[0]();
      const before = got[0].length;
      await store.publish({ type: 'tally', poll: buildView(d, { A: 2, B: 1 }) });
      await waitFor('the tally on the stream still running', () => got[1].at(-1)?.total === 3);
      expect(got[0]).to.have.length(before);
      expect(other).to.deep.equal([]);
      const [, listeners] = (await redis.call('PUBSUB', 'NUMSUB', store.k.events())) as [string, number];
      expect(Number(listeners)).to.equal(1); // one subscription per worker, whatever the streams
    } finally {
      await feeds.close();
    }
  });
});
