// Votes over socket.io: many clients on two web nodes add up exactly; bad options, no poll and
// flooding are refused without changing a count; poll:update reaches everyone, coalesced.
// First against a per-vote Redis tally (test/fixtures/redis-poll.ts), then against the real
// PollService (Redis live tally + PostgreSQL, one vote per voter).
import crypto from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { migrate } from '../src/db/index.js';
import { countVotes } from '../src/polls/repo.js';
import type { WirePoll } from '../src/realtime/protocol.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { PollHarness, uniquePrefix } from './helpers/polls.js';
import { TestPolls } from './fixtures/redis-poll.js';
import { REDIS_URL, client, connected, startNode, until, viewer, sleep, type Client, type Node } from './fixtures/realtime.js';

type Res = { ok: boolean; error?: { code: string; message: string } };

describe('realtime: votes (per-vote Redis tally)', function () {
  this.timeout(30_000);
  let redis: Redis;
  let polls: TestPolls;
  let a: Node;
  let b: Node;
  const sockets: Client[] = [];

  before(async () => {
    redis = new Redis(REDIS_URL);
    polls = new TestPolls(redis, crypto.randomBytes(4).toString('hex'));
    const opts = { polls };
    [a, b] = await Promise.all([startNode(opts), startNode(opts)]);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await polls.cleanup();
    redis.disconnect();
  });

  it('with no poll: no_poll, and nothing counted', async () => {
    const s = await connected(client(a.url));
    sockets.push(s);
    const r = (await s.emitWithAck('vote:cast', { option: 'A' })) as Res;
    expect(r.error?.code).to.equal('no_poll');
  });

  it('40 clients on two nodes, 25 votes each: the tally is exact and every client sees it', async () => {
    await polls.create('Who wins?', ['A', 'B', 'C']);
    const clients = await Promise.all(Array.from({ length: 40 }, (_, i) => viewer(i % 2 ? a.url : b.url, `v${i}`)));
    sockets.push(...clients);
    const last: (WirePoll | null)[] = clients.map(() => null);
    const updates = clients.map(() => 0);
    clients.forEach((c, i) =>
      c.on('poll:update', ({ poll }) => {
        last[i] = poll;
        updates[i]++;
      }),
    );
    const expected: Record<string, number> = { A: 0, B: 0, C: 0 };
    const t0 = Date.now();
    const results = await Promise.all(
      clients.flatMap((c, i) =>
        Array.from({ length: 25 }, (_, j) => {
          const option = ['A', 'B', 'C'][(i + j) % 3];
          expected[option]++;
          return c.emitWithAck('vote:cast', { option }) as Promise<Res>;
        }),
      ),
    );
    const elapsed = Date.now() - t0;
    expect(results.filter((r) => !r.ok)).to.deep.equal([]);
    expect(await polls.tally()).to.deep.equal(expected);
    await until(() => last.every((p) => p?.total === 1000), 3000, 'every client sees 1000 votes');
    expect(last[0]!.counts).to.deep.equal(expected);
    expect(last[0]!.options).to.deep.equal(['A', 'B', 'C']);
    // Coalesced: at most ~10 per second per node (plus the first one and the last).
    const seconds = Math.max(1, (Date.now() - t0) / 1000);
    for (const n of updates) expect(n).to.be.at.most(Math.ceil(seconds * 10) + 3);
    expect(elapsed).to.be.below(10_000);
  });

  it('an invalid option or a wrong payload changes nothing', async () => {
    await polls.create('Pick one', ['A', 'B']);
    const s = await viewer(a.url);
    sockets.push(s);
    const r1 = (await s.emitWithAck('vote:cast', { option: 'Z' })) as Res;
    expect(r1.error?.code).to.equal('invalid_option');
    const r2 = (await (s as any).emitWithAck('vote:cast', { option: ['A'] })) as Res;
    expect(r2.error?.code).to.equal('invalid_payload');
    const r3 = (await (s as any).emitWithAck('vote:cast', {})) as Res;
    expect(r3.error?.code).to.equal('invalid_payload');
    expect(await polls.tally()).to.deep.equal({ A: 0, B: 0 });
  });

  it('a flooding client is rate limited: exactly the accepted votes are counted', async () => {
    await polls.create('Flood', ['A', 'B']);
    const s = await viewer(b.url);
    sockets.push(s);
    let errorEvents = 0;
    s.on('error', (e) => e.code === 'rate_limited' && errorEvents++);
    const results = (await Promise.all(Array.from({ length: 300 }, () => s.emitWithAck('vote:cast', { option: 'A' })))) as Res[];
    const accepted = results.filter((r) => r.ok).length;
    const limited = results.filter((r) => r.error?.code === 'rate_limited').length;
    expect(accepted + limited).to.equal(300);
    expect(accepted).to.be.within(30, 60); // the burst, plus what refills meanwhile
    await sleep(50);
    expect(await polls.tally()).to.deep.equal({ A: accepted, B: 0 });
    expect(errorEvents).to.be.within(1, 25); // error events are themselves bounded
    expect(s.connected).to.equal(true);
  });
});

const pgKind = DATABASE_KINDS.find((k) => !k.embedded) ?? DATABASE_KINDS[0];

describe(`realtime: votes with the real PollService (${pgKind.name})`, function () {
  this.timeout(60_000);
  let t: TestDatabase;
  let h: PollHarness;
  let a: Node;
  let b: Node;
  const sockets: Client[] = [];

  before(async () => {
    t = await pgKind.open();
    await migrate(t.db.pool);
    h = new PollHarness(uniquePrefix('rt'));
    const [sa, sb] = [await h.service(t.db.pool, { subscribe: true }), await h.service(t.db.pool, { subscribe: true })];
    await sa.generate({ draft: { question: 'Best fighter?', options: ['Ryu', 'Ken', 'Chun-Li'] } });
    [a, b] = await Promise.all([
      startNode({ polls: sa }),
      startNode({ polls: sb }),
    ]);
  });
  after(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await Promise.all([a?.close(), b?.close()]);
    await h?.close();
    await t?.cleanup();
  });

  it('60 voters on two nodes, once each: exact in Redis and PostgreSQL; a second vote is refused', async () => {
    const clients = await Promise.all(Array.from({ length: 60 }, (_, i) => viewer(i % 2 ? a.url : b.url, `p${i}`)));
    sockets.push(...clients);
    const last: (WirePoll | null)[] = clients.map(() => null);
    clients.forEach((c, i) => c.on('poll:update', ({ poll }) => (last[i] = poll)));
    const first = (await clients[0].emitWithAck('poll:get')) as Res & { poll: WirePoll };
    expect(first.poll.options).to.deep.equal(['A', 'B', 'C']);
    expect(first.poll.labels).to.deep.equal({ A: 'Ryu', B: 'Ken', C: 'Chun-Li' });
    const expected: Record<string, number> = { A: 0, B: 0, C: 0 };
    const results = (await Promise.all(
      clients.map((c, i) => {
        const option = ['A', 'B', 'C'][i % 3 === 0 ? 0 : i % 5 === 0 ? 2 : 1];
        expected[option]++;
        return c.emitWithAck('vote:cast', { option });
      }),
    )) as Res[];
    expect(results.filter((r) => !r.ok)).to.deep.equal([]);
    const again = (await clients[1].emitWithAck('vote:cast', { option: 'A' })) as Res;
    expect(again.error?.code).to.equal('vote_rejected');
    expect(again.error?.message).to.match(/already voted/);
    const bad = (await clients[2].emitWithAck('vote:cast', { option: 'Q' })) as Res;
    expect(bad.error?.code).to.equal('invalid_option');
    const pollId = Number(first.poll.id);
    expect(await h.tally(pollId)).to.deep.equal(expected);
    expect(await countVotes(t.db.pool, pollId)).to.deep.equal(expected);
    await until(() => last.every((p) => p?.total === 60), 5000, 'every client sees 60 votes');
    expect(last[7]!.counts).to.deep.equal(expected);
  });
});
