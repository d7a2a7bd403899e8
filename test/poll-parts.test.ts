// The parts the poll service wires together, each on its own against the real Redis and
// PostgreSQL: rotation (which poll is open) and voting (record, count, tell), both keeping the
// live view current through its one mechanism (apply / invalidate), never a cache of their own.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { migrate } from '../src/db/index.js';
import { BuiltinGenerator } from '../src/polls/generator.js';
import { PollLiveView } from '../src/polls/live-view.js';
import { TallyRecovery } from '../src/polls/recovery.js';
import { countVotes } from '../src/polls/repo.js';
import { PollRotation, type AutoNext } from '../src/polls/rotation.js';
import { PollStore, pollKeys } from '../src/polls/store.js';
import type { PollView } from '../src/polls/types.js';
import { PollVoting } from '../src/polls/voting.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { deleteKeys, REDIS_URL, uniquePrefix } from './helpers/polls.js';

const pgKind = DATABASE_KINDS.find((k) => !k.embedded) ?? DATABASE_KINDS[0];

describe(`poll service parts (${pgKind.name})`, function () {
  this.timeout(30_000);
  let t: TestDatabase;
  let redis: Redis;
  let prefix: string;
  const closers: (() => Promise<void> | void)[] = [];

  /** One process's parts, as PollService wires them (no subscriber: only its own changes reach its view). */
  function parts(opts: { autoNext?: AutoNext } = {}) {
    const pool = t.db.pool;
    const store = new PollStore(redis, pollKeys(prefix));
    let live!: PollLiveView;
    const recovery = new TallyRecovery(pool, store, { closedTtlSeconds: 60, onRepaired: () => live.invalidate() });
    live = new PollLiveView({ store, refreshMs: 60_000, missing: () => recovery.restoreCurrent() });
    const voting = new PollVoting({ pool, store, live, recovery });
    const rotation = new PollRotation({ pool, store, live, recovery, generator: new BuiltinGenerator(), closedTtlSeconds: 60, ...opts });
    closers.push(async () => {
      rotation.close();
      recovery.close();
      await voting.drain();
      await live.close();
    });
    return { store, live, recovery, voting, rotation };
  }

  before(async () => {
    t = await pgKind.open();
    await migrate(t.db.pool);
    redis = new Redis(REDIS_URL);
  });
  beforeEach(() => {
    prefix = uniquePrefix('parts');
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await deleteKeys(redis, prefix);
  });
  after(async () => {
    redis?.disconnect();
    await t?.cleanup();
  });

  it('rotation: generate() shows the new poll in the live view at once and hands over the closed one', async () => {
    const { live, rotation, store } = parts();
    const first = await rotation.ensurePoll();
    expect(live.current()?.id).to.equal(first.id);
    const told: [number | undefined, number | undefined][] = [];
    live.subscribe((v, prev) => told.push([v?.id, prev?.id]));
    const r = await rotation.generate({ draft: { question: 'Ryu or Ken?', options: ['Ryu', 'Ken'] }, durationSeconds: 60 });
    expect(r.closed?.id).to.equal(first.id);
    expect(live.current()).to.include({ id: r.poll.id, question: 'Ryu or Ken?' });
    expect(told).to.deep.equal([[r.poll.id, first.id]]);
    expect(await store.currentId()).to.equal(r.poll.id);
  });

  it('rotation: ensurePoll() rebuilds a poll Redis lost; a lost rotateIfEnded race picks up the winner', async () => {
    const a = parts({ autoNext: { durationSeconds: 30, afterEndMs: 0 } });
    const { poll } = await a.rotation.generate({ draft: { question: 'Ends now?', options: ['yes', 'no'] }, durationSeconds: 10 });
    await deleteKeys(redis, prefix);
    expect((await a.rotation.ensurePoll()).id).to.equal(poll.id);
    expect(await a.store.currentId()).to.equal(poll.id);

    // The poll has ended, as two processes see it.
    const endsAt = new Date(Date.now() - 1000).toISOString();
    await a.store.init({ id: poll.id, question: poll.question, options: poll.options.map(({ key, label }) => ({ key, label })), createdAt: poll.createdAt, endsAt, closedAt: null });
    const [x, y] = [parts({ autoNext: { durationSeconds: 30, afterEndMs: 0 } }), parts({ autoNext: { durationSeconds: 30, afterEndMs: 0 } })];
    expect((await x.live.refresh())?.endsAt).to.equal(endsAt);
    expect((await y.live.refresh())?.endsAt).to.equal(endsAt);
    const won = (await y.rotation.rotateIfEnded())!;
    expect(won.id).to.be.greaterThan(poll.id);
    // x still shows the ended poll: its rotation loses in Postgres and its view rereads.
    expect(await x.rotation.rotateIfEnded()).to.equal(null);
    expect((await x.live.fresh())?.id).to.equal(won.id);
  });

  it('voting: a vote is recorded, counted and shown in the live view at once; a repeat is refused', async () => {
    const { live, rotation, voting } = parts();
    const { poll } = await rotation.generate({ draft: { question: 'Best?', options: ['Ryu', 'Ken', 'Guile'] } });
    const seen: (PollView | null)[] = [];
    live.subscribe((v) => seen.push(v));
    const r = await voting.vote('b', 'voter-1');
    expect(r).to.include({ pollId: poll.id, option: 'B', voterId: 'voter-1' });
    expect(r.poll.options.map((o) => o.votes)).to.deep.equal([0, 1, 0]);
    expect(live.current()?.total).to.equal(1);
    expect(seen.map((v) => v?.total)).to.deep.equal([1]);
    expect(await countVotes(t.db.pool, poll.id)).to.deep.equal({ B: 1 });
    const refusal = await voting.vote('A', 'voter-1').catch((e) => e);
    expect(refusal).to.include({ status: 409 });
    expect(refusal.details).to.deep.equal({ reason: 'already_voted', pollId: poll.id });
    expect((await voting.vote('A', 'bad id').catch((e) => e)).status).to.equal(400);
    expect((await voting.vote('Z', 'voter-2').catch((e) => e)).details.field).to.equal('option');
  });

  it('voting: a vote on a poll another process closed is refused, and the live view moves on', async () => {
    const mine = parts();
    const other = parts();
    const { poll } = await mine.rotation.generate({ draft: { question: 'Old?', options: ['a', 'b'] } });
    await other.live.refresh();
    const next = await other.rotation.generate({ draft: { question: 'New?', options: ['c', 'd'] } });
    expect(mine.live.current()?.id).to.equal(poll.id); // no subscriber: it has not heard
    const err = await mine.voting.vote('A', 'late-voter').catch((e) => e);
    expect(err.status).to.equal(409);
    expect(err.details).to.deep.equal({ reason: 'poll_closed', pollId: poll.id });
    expect((await mine.live.fresh())?.id).to.equal(next.poll.id);
    expect(await countVotes(t.db.pool, poll.id)).to.deep.equal({});
  });
});
