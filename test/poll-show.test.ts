// The poll show end to end against the real Redis and PostgreSQL, with short durations: two web
// nodes run the loop (one leads, by a Redis lease), a worker's scene feed watches; a poll opens,
// takes votes, closes with its winner recorded, is revealed, and the next one (from the queue)
// opens exactly once. Then the management routes: queue, close now, history pages.
import express from 'express';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import request from 'supertest';
import { migrate } from '../src/db/index.js';
import { errorHandler } from '../src/errors.js';
import { SceneFeeds } from '../src/jobs/scene-feeds.js';
import type { PollService } from '../src/polls/service.js';
import type { ShowOptions } from '../src/polls/show.js';
import { winnerOf } from '../src/polls/tally.js';
import type { PollView } from '../src/polls/types.js';
import { pollRouter } from '../src/routes/poll.js';
import { pollsAdminRouter } from '../src/routes/polls-admin.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { waitFor } from './helpers/env.js';
import { PollHarness, REDIS_URL, TOKEN, requireToken, testVoteGate, uniquePrefix } from './helpers/polls.js';
import { Subscriber } from '../src/redis/index.js';

const pgKind = DATABASE_KINDS.find((k) => !k.embedded) ?? DATABASE_KINDS[0];
const SHOW: ShowOptions = { durationSeconds: 2, revealSeconds: 2, closedMs: 300, tickMs: 100, leaseMs: 1500 };
const auth = { Authorization: `Bearer ${TOKEN}` };

function app(polls: PollService): express.Express {
  const a = express();
  a.use(express.json());
  a.use(pollsAdminRouter({ polls, requireToken }), pollRouter({ polls, requireToken, votes: testVoteGate(polls) }));
  a.use(errorHandler);
  return a;
}

describe(`poll show (${pgKind.name})`, function () {
  this.timeout(60_000);
  let t: TestDatabase;
  let h: PollHarness;

  before(async () => {
    t = await pgKind.open();
    await migrate(t.db.pool);
  });
  beforeEach(() => {
    h = new PollHarness(uniquePrefix('show'));
  });
  afterEach(async () => {
    await h.close();
    await t.db.pool.query('DELETE FROM poll_queue');
  });
  after(async () => {
    await t?.cleanup();
  });

  it('winner: the most votes, a tie says so, nobody voting is no winner', () => {
    const options = [{ key: 'A', label: 'Ryu' }, { key: 'B', label: 'Ken' }, { key: 'C', label: 'Guile' }];
    expect(winnerOf({ options }, { A: 1, B: 3 })).to.deep.equal({ keys: ['B'], labels: ['Ken'], votes: 3, tie: false });
    expect(winnerOf({ options }, { A: 3, B: 3, C: 1 })).to.deep.equal({ keys: ['A', 'B'], labels: ['Ryu', 'Ken'], votes: 3, tie: true });
    expect(winnerOf({ options }, {})).to.equal(null);
  });

  it('open → voting → closed → reveal → the queued poll, once, with two web nodes and a worker watching', async () => {
    const a = await h.service(t.db.pool, { subscribe: true, show: { ...SHOW, nodeId: 'node-a', run: true } });
    const b = await h.service((await t.openAnother()).pool, { subscribe: true, show: { ...SHOW, nodeId: 'node-b', run: true } });
    const first = (await a.generate({ draft: { question: 'Ryu or Ken?', options: ['Ryu', 'Ken'] }, durationSeconds: 2 })).poll;
    await b.refresh();
    await b.vote('A', 'voter-1');
    await a.vote('A', 'voter-2');
    await b.vote('B', 'voter-3');
    await request(app(a)).post('/api/polls/queue').set(auth).send({ question: 'Queued next?', options: ['Yes', 'No', 'Maybe'], durationSeconds: 0 }).expect(201);

    // The worker: its scene feed sees every change of the poll on air.
    const sub = new Redis(REDIS_URL);
    const wredis = new Redis(REDIS_URL);
    const feeds = new SceneFeeds({ redis: wredis, subscriber: new Subscriber(sub) }, { keys: h.keys, refreshMs: 0 });
    const seen: PollView[] = [];
    const off = feeds.feed('poll', (x) => {
      const p = (x as { poll: PollView | null }).poll;
      if (p) seen.push(p);
    });
    try {
      const next = await waitFor(() => seen.find((p) => p.id > first.id), 20_000, 50, 'the next poll on the worker');
      expect(next.question).to.equal('Queued next?');
      expect(next.endsAt).to.equal(null); // duration 0: until closed by hand

      // On the way: the first poll closed on air with its winner, its reveal two seconds long.
      const closedOnAir = seen.find((p) => p.id === first.id && p.closedAt);
      expect(closedOnAir?.winner).to.deep.equal({ keys: ['A'], labels: ['Ryu'], votes: 2, tie: false });
      expect(Date.parse(closedOnAir!.revealUntil!) - Date.parse(closedOnAir!.revealAt!)).to.equal(2000);
      expect(Date.parse(next.createdAt)).to.be.at.least(Date.parse(closedOnAir!.revealUntil!));

      // Recorded: final tally and winner, served by GET /api/polls/:id from either node.
      const { body } = await request(app(b)).get(`/api/polls/${first.id}`).expect(200);
      expect(body).to.include({ id: first.id, total: 3, phase: 'reveal' });
      expect(body.winner).to.deep.equal({ keys: ['A'], labels: ['Ryu'], votes: 2, tie: false });
      const { rows } = await t.db.pool.query('SELECT final_tally, winner FROM polls WHERE id = $1', [first.id]);
      expect(rows[0].final_tally).to.deep.equal({ A: 2, B: 1 });

      // Exactly one rotation: one poll after the first, the queue taken, one leader.
      await new Promise((r) => setTimeout(r, 1500));
      const after = await t.db.pool.query('SELECT id FROM polls WHERE id > $1', [first.id]);
      expect(after.rows.map((r) => r.id)).to.deep.equal([next.id]);
      expect((await request(app(a)).get('/api/polls/queue').expect(200)).body.queue).to.deep.equal([]);
      expect([a.show.isLeader, b.show.isLeader].filter(Boolean)).to.have.length(1);
      expect((await a.current())?.id).to.equal(next.id);
      expect((await b.current())?.id).to.equal(next.id);
    } finally {
      off();
      await feeds.close();
      sub.disconnect();
      wredis.disconnect();
    }
  });

  it('the leader stops: the other node takes the lease and runs the show; close now → reveal → next', async () => {
    const a = await h.service(t.db.pool, { subscribe: true, show: { ...SHOW, nodeId: 'node-a', run: true } });
    await a.generate({ draft: { question: 'Manual?', options: ['Yes', 'No'] } }); // no end: manual
    await waitFor(() => a.show.isLeader, 5000, 50, 'a leads');
    const b = await h.service((await t.openAnother()).pool, { subscribe: true, show: { ...SHOW, nodeId: 'node-b', run: true } });
    expect(b.show.isLeader).to.equal(false);
    await a.close(); // hands the lease back
    await waitFor(() => b.show.isLeader, 5000, 50, 'b leads');

    const before = (await b.refresh())!;
    const { body } = await request(app(b)).post('/api/poll/close').set(auth).expect(200);
    expect(body.closed).to.include({ id: before.id, phase: 'closed' });
    expect(body.closed.winner).to.equal(null); // nobody voted
    await request(app(b)).post('/api/poll/close').set(auth).expect(409); // nothing open during the reveal
    await request(app(b)).post('/api/vote').send({ option: 'A' }).expect(409);
    const next = await waitFor(async () => {
      const c = await b.current();
      return c && c.id > before.id ? c : null;
    }, 15_000, 100, 'the next poll from the generator');
    expect(Date.parse(next.endsAt!) - Date.parse(next.createdAt)).to.be.within(1900, 2100); // POLL_DURATION_SECONDS
  });

  it('a node restarted during a reveal keeps the revealed poll on air (Redis lost it too)', async () => {
    const a = await h.service(t.db.pool, { show: { ...SHOW, revealSeconds: 30 } }); // loop not running
    const { poll } = await a.generate({ draft: { question: 'Restart?', options: ['Yes', 'No'] } });
    await a.vote('B', 'v1');
    const closed = (await a.closeNow())!;
    expect(closed.winner?.labels).to.deep.equal(['No']);
    await h.closeServices();
    await h.redis.del(h.keys.current());
    const again = await h.service(t.db.pool, { show: { ...SHOW, revealSeconds: 30 } });
    const onAir = await again.ensurePoll();
    expect(onAir).to.include({ id: poll.id, total: 1 });
    expect(onAir.closedAt).to.be.a('string');
    expect(await again.show.step()).to.equal('idle'); // the reveal is not over
  });

  it('management routes: token, validation, queue order, history pages with winners', async () => {
    const svc = await h.service(t.db.pool, { show: { ...SHOW } });
    const api = app(svc);
    await request(api).post('/api/polls/queue').send({ question: 'No token?', options: ['a', 'b'] }).expect(401);
    await request(api).post('/api/poll/close').expect(401);
    const bad = await request(api).post('/api/polls/queue').set(auth).send({ question: 'One?', options: ['a'] }).expect(400);
    expect(bad.body.error).to.equal('validation_error');
    await request(api).post('/api/polls/queue').set(auth).send({ question: 'Same?', options: ['a', 'A'] }).expect(400);
    await request(api).post('/api/polls/queue').set(auth).send({ question: 'Odd?', options: ['a', 'b'], durationSeconds: 5 }).expect(400);
    const q1 = (await request(api).post('/api/polls/queue').set(auth).send({ question: 'First queued?', options: ['a', 'b'], durationSeconds: 30 }).expect(201)).body;
    const q2 = (await request(api).post('/api/polls/queue').set(auth).send({ question: 'Second queued?', options: ['a', 'b', 'c', 'd'] }).expect(201)).body;
    expect((await request(api).get('/api/polls/queue').expect(200)).body.queue.map((q: { id: number }) => q.id)).to.deep.equal([q1.id, q2.id]);
    await request(api).delete(`/api/polls/queue/${q1.id}`).expect(401);
    await request(api).delete(`/api/polls/queue/${q1.id}`).set(auth).expect(200);
    await request(api).delete(`/api/polls/queue/${q1.id}`).set(auth).expect(404);

    for (let i = 0; i < 4; i++) {
      await svc.generate({ draft: { question: `History ${i}?`, options: ['x', 'y'] } });
      await svc.vote(i % 2 ? 'B' : 'A', `h-${i}`);
    }
    await svc.closeNow();
    const p1 = (await request(api).get('/api/polls?limit=2').expect(200)).body;
    expect(p1.polls.map((p: PollView) => p.question)).to.deep.equal(['History 3?', 'History 2?']);
    expect(p1.polls[0].winner).to.deep.equal({ keys: ['B'], labels: ['y'], votes: 1, tie: false });
    const p2 = (await request(api).get(`/api/polls?limit=2&before=${p1.nextBefore}`).expect(200)).body;
    expect(p2.polls.map((p: PollView) => p.question)).to.deep.equal(['History 1?', 'History 0?']);
    const page2 = (await request(api).get('/api/polls?limit=2&page=2').expect(200)).body;
    expect(page2.polls.map((p: PollView) => p.id)).to.deep.equal(p2.polls.map((p: PollView) => p.id));
    expect(page2.page).to.equal(2);
    await request(api).get('/api/polls?limit=0').expect(400);
    await request(api).get('/api/polls?page=1&before=3').expect(400);

    // The queue feeds the show: the next poll is the queued one, with the default duration.
    expect(await svc.show.step(Date.now() + 60_000)).to.equal('opened');
    expect((await svc.current())?.question).to.equal('Second queued?');
  });
});
