// Polls end to end against the real Redis and both databases: the REST endpoints, one vote
// per voter under concurrency, exact tallies in Redis and Postgres, rebuilds after Redis loses
// its keys, restarts, and the update channel.
import { expect } from 'chai';
import type express from 'express';
import request from 'supertest';
import { migrate } from '../src/db/index.js';
import { countVotes } from '../src/polls/repo.js';
import type { PollService } from '../src/polls/service.js';
import type { PollEvent, PollView } from '../src/polls/types.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { deleteKeys, pollApp, PollHarness, REDIS_URL, TOKEN, uniquePrefix } from './helpers/polls.js';
import { Redis } from 'ioredis';
import http from 'node:http';
import { installPollFastPath } from '../src/routes/poll.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of DATABASE_KINDS) {
  describe(`polls (${kind.name})`, function () {
    this.timeout(60_000);
    let t: TestDatabase;
    let h: PollHarness;
    let svc: PollService;
    let app: express.Express;
    let n = 0;
    const voter = (label: string) => `${label}-${++n}`;

    /** A fresh poll with known options, opened through the API. */
    async function openPoll(options = ['Ryu', 'Ken', 'Chun-Li']): Promise<PollView> {
      const res = await request(app)
        .post('/api/poll/generate')
        .set('authorization', `Bearer ${TOKEN}`)
        .send({ question: `Test poll ${++n}?`, options });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body.poll;
    }

    before(async () => {
      t = await kind.open();
      await migrate(t.db.pool);
      h = new PollHarness(uniquePrefix(kind.embedded ? 'pglite' : 'pg'));
      svc = await h.service(t.db.pool, { subscribe: true });
      app = pollApp(svc);
    });
    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    it('has no poll on a fresh database (404), and ensurePoll() opens exactly one even when two processes start', async () => {
      let res = await request(app).get('/api/poll');
      expect(res.status).to.equal(404);
      expect(res.body.error).to.equal('not_found');
      res = await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: 'early' });
      expect(res.status).to.equal(404);

      const other = await h.service((await t.openAnother()).pool);
      const [a, b] = await Promise.all([svc.ensurePoll(), other.ensurePoll()]);
      expect(a.id).to.equal(b.id);
      expect(a.options.length).to.be.within(2, 4);
      const { rows } = await t.db.pool.query('SELECT count(*)::int AS n FROM polls');
      expect(rows[0].n).to.equal(1);

      res = await request(app).get('/api/poll');
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/application\/json/);
      expect(res.body).to.include({ id: a.id, question: a.question, total: 0, endsAt: null, closedAt: null });
      expect(res.body.options[0]).to.include({ key: 'A', votes: 0, percent: 0 });
      // Once there is a poll, ensurePoll() keeps it.
      expect((await svc.ensurePoll()).id).to.equal(a.id);
    });

    it('counts a vote (counts and percentages), and a repeat voter gets 409 with nothing changed', async () => {
      const poll = await openPoll();
      const v = voter('alice');
      let res = await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'B', voterId: v });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ ok: true, pollId: poll.id, option: 'B' });
      expect(res.body.poll.options.map((o: any) => [o.key, o.votes, o.percent])).to.deep.equal([
        ['A', 0, 0],
        ['B', 1, 100],
        ['C', 0, 0],
      ]);
      await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: voter('bob') }).expect(200);
      await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'Chun-Li', voterId: voter('carol') }).expect(200); // by label
      await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'b', voterId: voter('dave') }).expect(200); // key, any case

      res = await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: v });
      expect(res.status).to.equal(409);
      expect(res.body).to.deep.include({ error: 'conflict', message: 'you already voted in this poll' });
      expect(res.body.details).to.deep.equal({ reason: 'already_voted', pollId: poll.id });

      res = await request(app).get('/api/poll').expect(200);
      expect(res.body.options.map((o: any) => [o.key, o.label, o.votes, o.percent])).to.deep.equal([
        ['A', 'Ryu', 1, 25],
        ['B', 'Ken', 2, 50],
        ['C', 'Chun-Li', 1, 25],
      ]);
      expect(res.body.total).to.equal(4);
      expect(await h.tally(poll.id)).to.deep.equal({ A: 1, B: 2, C: 1 });
      expect(await countVotes(t.db.pool, poll.id)).to.deep.equal({ A: 1, B: 2, C: 1 });
    });

    it('gives a browser without voterId a stable sf_voter cookie, so it votes once', async () => {
      const poll = await openPoll();
      const agent = request.agent(app);
      let res = await agent.post('/api/vote').send({ option: 'A' });
      expect(res.status).to.equal(200);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).to.match(/sf_voter=[A-Za-z0-9_-]{20}\.[A-Za-z0-9_-]{27};/); // id.HMAC (src/security/voters.ts)
      expect(cookie).to.match(/HttpOnly/i);
      expect(cookie).to.match(/SameSite=Lax/i);
      res = await agent.post('/api/vote').send({ option: 'B' });
      expect(res.status).to.equal(409);
      expect(res.body.details.reason).to.equal('already_voted');
      // A different browser is a different voter.
      await request(app).post('/api/vote').send({ option: 'B' }).expect(200);
      // A forged, malformed cookie is ignored (a new id is issued).
      res = await request(app).post('/api/vote').set('cookie', 'sf_voter=bad value;').send({ option: 'C' });
      expect(res.status).to.equal(200);
      expect(await h.tally(poll.id)).to.deep.equal({ A: 1, B: 1, C: 1 });
    });

    it('answers 400 to every bad body and changes nothing', async () => {
      const poll = await openPoll();
      await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: voter('base') }).expect(200);
      const bad: [string, unknown, RegExp][] = [
        ['empty object', {}, /option/],
        ['empty option', { option: '' }, /option/],
        ['blank option', { option: '   ' }, /option/],
        ['number option', { option: 5 }, /option/],
        ['null option', { option: null }, /option/],
        ['array option', { option: ['A'] }, /option/],
        ['unknown field', { option: 'A', voterId: voter('x'), admin: true }, /admin|unrecognized/i],
        ['empty voterId', { option: 'A', voterId: '' }, /voterId/],
        ['voterId with a space', { option: 'A', voterId: 'has space' }, /voterId/],
        ['voterId too long', { option: 'A', voterId: 'v'.repeat(129) }, /voterId/],
        ['voterId not a string', { option: 'A', voterId: 42 }, /voterId/],
        ['option too long', { option: 'A'.repeat(201) }, /option/],
        ['a JSON array', ['A'], /body|expected object/i],
        ['unknown option', { option: 'Z', voterId: voter('z') }, /unknown option "Z"; choose one of A, B, C/],
        ['option by wrong label', { option: 'ryu ', voterId: voter('z') }, /unknown option/],
      ];
      for (const [label, body, pattern] of bad) {
        const res = await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send(body as object);
        expect(res.status, `${label}: ${JSON.stringify(res.body)}`).to.equal(400);
        expect(res.body.error, label).to.be.oneOf(['validation_error', 'bad_request']);
        expect(res.body.message, label).to.match(pattern);
      }
      const notJson = await request(app).post('/api/vote').set('content-type', 'application/json').send('{"option": "A",');
      expect(notJson.status).to.equal(400);
      expect(notJson.body.error).to.equal('bad_request');
      const tooBig = await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: 'v', pad: 'x'.repeat(20_000) });
      expect(tooBig.status).to.equal(413);

      expect(await h.tally(poll.id)).to.deep.equal({ A: 1, B: 0, C: 0 });
      expect(await countVotes(t.db.pool, poll.id)).to.deep.equal({ A: 1 });
      expect((await request(app).get('/api/poll')).body.total).to.equal(1);
    });

    it('generates a new poll behind the token, keeps the old final tally, and serves past results', async () => {
      const old = await openPoll(['Scorpion', 'Sub-Zero']);
      await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: voter('g') }).expect(200);
      await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: voter('g') }).expect(200);
      await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'B', voterId: voter('g') }).expect(200);

      let res = await request(app).post('/api/poll/generate').send({});
      expect(res.status).to.equal(401);
      res = await request(app).post('/api/poll/generate').set('authorization', 'Bearer wrong-token').send();
      expect(res.status).to.equal(401);
      expect((await request(app).get('/api/poll')).body.id).to.equal(old.id);

      res = await request(app).post('/api/poll/generate').set('authorization', `Bearer ${TOKEN}`).send();
      expect(res.status).to.equal(201);
      const fresh: PollView = res.body.poll;
      expect(fresh.id).to.be.greaterThan(old.id);
      expect(fresh.question).to.not.equal(old.question);
      expect(fresh.total).to.equal(0);
      expect(res.body.closed).to.include({ id: old.id, total: 3 });
      expect((await request(app).get('/api/poll')).body.id).to.equal(fresh.id);

      res = await request(app).get(`/api/polls/${old.id}`).expect(200);
      expect(res.body.closedAt).to.be.a('string');
      expect(res.body.options.map((o: any) => [o.label, o.votes, o.percent])).to.deep.equal([
        ['Scorpion', 2, 67],
        ['Sub-Zero', 1, 33],
      ]);
      const { rows } = await t.db.pool.query('SELECT final_tally, closed_at FROM polls WHERE id = $1', [old.id]);
      expect(rows[0].final_tally).to.deep.equal({ A: 2, B: 1 });
      // The open poll is served too, with live counts.
      expect((await request(app).get(`/api/polls/${fresh.id}`).expect(200)).body.closedAt).to.equal(null);
      // Voting on the closed poll's options now lands on the new poll.
      res = await request(app).get('/api/polls/999999');
      expect(res.status).to.equal(404);
      for (const id of ['abc', '0', '-1', '1.5', '12345678901', '1e3']) {
        res = await request(app).get(`/api/polls/${id}`);
        expect(res.status, id).to.equal(400);
        expect(res.body.error).to.equal('validation_error');
        expect(res.body.details[0].field).to.equal('id');
      }
      // A past poll is cached by this process, and another process reads it from Postgres.
      const other = await h.service((await t.openAnother()).pool);
      expect((await other.getPoll(old.id))?.total).to.equal(3);
    });

    it('takes a poll of our own with a countdown, and validates the generate body', async () => {
      const before = Date.now();
      let res = await request(app)
        .post('/api/poll/generate')
        .set('authorization', `Bearer ${TOKEN}`)
        .send({ question: 'Akuma or Heihachi?', options: ['Akuma', 'Heihachi'], durationSeconds: 90 });
      expect(res.status).to.equal(201);
      const endsAt = Date.parse(res.body.poll.endsAt);
      expect(endsAt).to.be.within(before + 89_000, Date.now() + 91_000);
      expect((await request(app).get('/api/poll')).body.endsAt).to.equal(res.body.poll.endsAt);

      const bad: [unknown, RegExp][] = [
        [{ question: 'Only a question?' }, /options: give question and options together/],
        [{ options: ['A', 'B'] }, /question: give question and options together/],
        [{ question: 'Five?', options: ['a', 'b', 'c', 'd', 'e'] }, /options/],
        [{ question: 'One?', options: ['a'] }, /options/],
        [{ question: 'Same?', options: ['Ryu', 'ryu'] }, /options must be different/],
        [{ question: 'Q?', options: ['a', 'b'] }, /question/],
        [{ question: 'Empty option?', options: ['a', ''] }, /options\.1/],
        [{ durationSeconds: 5 }, /durationSeconds/],
        [{ durationSeconds: '60' }, /durationSeconds/],
        [{ model: 'gpt' }, /model|unrecognized/i],
      ];
      const current = (await request(app).get('/api/poll')).body.id;
      for (const [body, pattern] of bad) {
        res = await request(app).post('/api/poll/generate').set('authorization', `Bearer ${TOKEN}`).send(body as object);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.message, JSON.stringify(body)).to.match(pattern);
      }
      expect((await request(app).get('/api/poll')).body.id).to.equal(current);
    });

    it('refuses a vote once the poll has ended or closed (409 poll_closed)', async () => {
      const poll = await openPoll();
      // Another process whose cached view is still the old poll after we rotate.
      const stale = await h.service(t.db.pool, { cacheMs: 60_000 });
      expect((await stale.current())?.id).to.equal(poll.id);
      await openPoll();
      let err: any;
      try {
        await stale.vote('A', voter('late'));
      } catch (e) {
        err = e;
      }
      expect(err?.status).to.equal(409);
      expect(err?.details).to.deep.equal({ reason: 'poll_closed', pollId: poll.id });
      expect(await countVotes(t.db.pool, poll.id)).to.deep.equal({});

      // Past its end time, Postgres refuses the vote even if a cached view still shows it open.
      const timed = await openPoll();
      await t.db.pool.query(`UPDATE polls SET ends_at = now() - interval '1 second' WHERE id = $1`, [timed.id]);
      const res = await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: voter('late') });
      expect(res.status).to.equal(409);
      expect(res.body.details.reason).to.equal('poll_closed');
      expect(await countVotes(t.db.pool, timed.id)).to.deep.equal({});
    });

    it('adds up 200 concurrent voters exactly in Redis and in Postgres', async () => {
      const poll = await openPoll(['Ryu', 'Ken', 'Guile', 'Blanka']);
      const keys = ['A', 'B', 'C', 'D'];
      const expected: Record<string, number> = { A: 0, B: 0, C: 0, D: 0 };
      const server = app.listen(0);
      try {
        const votes = Array.from({ length: 200 }, (_, i) => keys[(i * 7 + (i >> 3)) % 4]);
        for (const k of votes) expected[k]++;
        const results = await Promise.all(
          votes.map((option, i) => request(server).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option, voterId: `crowd-${n}-${i}` })),
        );
        expect(results.map((r) => r.status).filter((s) => s !== 200)).to.deep.equal([]);
      } finally {
        server.close();
      }
      expect(await h.tally(poll.id)).to.deep.equal(expected);
      expect(await countVotes(t.db.pool, poll.id)).to.deep.equal(expected);
      expect(await h.redis.scard(h.keys.voters(poll.id))).to.equal(201); // + the marker
      const res = await request(app).get('/api/poll').expect(200);
      expect(res.body.total).to.equal(200);
      expect(res.body.options.map((o: any) => o.votes)).to.deep.equal(keys.map((k) => expected[k]));
      expect(res.body.options.reduce((a: number, o: any) => a + o.percent, 0)).to.equal(100);
    });

    it('accepts exactly one of 20 simultaneous votes by the same voter', async () => {
      const poll = await openPoll();
      const v = voter('twenty');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: ['A', 'B', 'C'][i % 3], voterId: v })),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 200)).to.have.length(1);
      expect(statuses.filter((s) => s === 409)).to.have.length(19);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.details.reason === 'already_voted')).to.equal(true);
      const winner = results.find((r) => r.status === 200)!.body.option;
      const expected = { A: 0, B: 0, C: 0, [winner]: 1 };
      expect(await h.tally(poll.id)).to.deep.equal(expected);
      const { rows } = await t.db.pool.query('SELECT option FROM votes WHERE poll_id = $1 AND voter_id = $2', [poll.id, v]);
      expect(rows).to.deep.equal([{ option: winner }]);
    });

    it('rebuilds the tally from Postgres after Redis loses the keys (a Redis restart)', async () => {
      const poll = await openPoll();
      for (const o of ['A', 'A', 'B', 'C', 'C', 'C']) await svc.vote(o, voter('rb'));
      expect(await h.tally(poll.id)).to.deep.equal({ A: 2, B: 1, C: 3 });

      // Lost keys noticed by a vote: it is recorded, the tally rebuilt, and it counts.
      expect(await deleteKeys(h.redis, h.prefix)).to.be.greaterThan(0);
      const r = await svc.vote('B', voter('rb'));
      expect(r.poll.options.map((o) => o.votes)).to.deep.equal([2, 2, 3]);
      expect(await h.tally(poll.id)).to.deep.equal({ A: 2, B: 2, C: 3 });
      expect(await h.redis.get(h.keys.current())).to.equal(String(poll.id));

      // Lost keys noticed by a read (another process with nothing cached).
      await deleteKeys(h.redis, h.prefix);
      const reader = await h.service(t.db.pool);
      const view = await reader.current();
      expect(view?.id).to.equal(poll.id);
      expect(view?.options.map((o) => o.votes)).to.deep.equal([2, 2, 3]);
      expect(await h.tally(poll.id)).to.deep.equal({ A: 2, B: 2, C: 3 });
      // Voters are restored too: a repeat is still a repeat.
      const { rows } = await t.db.pool.query('SELECT voter_id FROM votes WHERE poll_id = $1 LIMIT 1', [poll.id]);
      const res = await request(pollApp(reader)).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'A', voterId: rows[0].voter_id });
      expect(res.status).to.equal(409);
    });

    it('replays votes that reached Postgres but not Redis (a crash in between)', async () => {
      const poll = await openPoll();
      await svc.vote('A', voter('crash'));
      // As if a process died after its INSERT committed and before it counted the vote live.
      await t.db.pool.query(`INSERT INTO votes (poll_id, voter_id, option) VALUES ($1, 'ghost-1', 'C'), ($1, 'ghost-2', 'C')`, [poll.id]);
      expect(await h.tally(poll.id)).to.deep.equal({ A: 1, B: 0, C: 0 });
      expect(await svc.reconcile(0)).to.equal(true);
      expect(await h.tally(poll.id)).to.deep.equal({ A: 1, B: 0, C: 2 });
      expect(await svc.reconcile(0)).to.equal(false); // nothing left to do
      await svc.refresh();
      expect((await svc.current())?.total).to.equal(3);
    });

    it('shows the same counts after every process restarts (and after Redis is wiped too)', async () => {
      const poll = await openPoll();
      for (const o of ['A', 'B', 'B']) await svc.vote(o, voter('restart'));
      const before = (await request(app).get('/api/poll')).body;
      expect(before.total).to.equal(3);

      await h.closeServices();
      await t.reopen();
      svc = await h.service(t.db.pool, { subscribe: true });
      app = pollApp(svc);
      await svc.ensurePoll();
      expect((await request(app).get('/api/poll')).body).to.deep.equal(before);

      await h.closeServices();
      await deleteKeys(h.redis, h.prefix);
      await t.reopen();
      svc = await h.service(t.db.pool, { subscribe: true });
      app = pollApp(svc);
      expect((await svc.ensurePoll()).id).to.equal(poll.id);
      expect((await request(app).get('/api/poll')).body).to.deep.equal(before);
    });

    it('opens the next poll when one ends (autoNext), once, however many processes run it', async () => {
      await svc.generate({ draft: { question: 'Ends soon?', options: ['yes', 'no'] }, durationSeconds: 1 });
      const auto = { durationSeconds: 30, afterEndMs: 0, checkMs: 60_000 };
      const a = await h.service(t.db.pool, { autoNext: auto });
      const b = await h.service((await t.openAnother()).pool, { autoNext: auto });
      expect(await a.rotateIfEnded()).to.equal(null); // not ended yet
      const { rows: before } = await t.db.pool.query('SELECT max(id)::int AS id FROM polls');
      await sleep(1100);
      const [ra, rb] = await Promise.all([a.rotateIfEnded(), b.rotateIfEnded()]);
      const made = [ra, rb].filter(Boolean);
      expect(made).to.have.length(1);
      const { rows } = await t.db.pool.query('SELECT id, ends_at FROM polls WHERE id > $1', [before[0].id]);
      expect(rows).to.have.length(1);
      expect(rows[0].ends_at.getTime() - Date.now()).to.be.within(25_000, 31_000);
      expect((await b.refresh())?.id).to.equal(made[0]!.id);
      expect((await a.current())?.id).to.equal(made[0]!.id);
      // On a timer it happens by itself.
      await svc.generate({ draft: { question: 'Ends now?', options: ['yes', 'no'] }, durationSeconds: 1 });
      const timed = await h.service(t.db.pool, { autoNext: { durationSeconds: 30, afterEndMs: 0, checkMs: 100 } });
      const startId = (await timed.refresh())!.id;
      const deadline = Date.now() + 5000;
      while ((await timed.current())!.id === startId && Date.now() < deadline) await sleep(100);
      expect((await timed.current())!.id).to.be.greaterThan(startId);
      await h.closeServices();
      svc = await h.service(t.db.pool, { subscribe: true });
      app = pollApp(svc);
    });

    it('serves GET /api/poll from the HTTP server fast path exactly as the router does', async () => {
      await openPoll();
      await svc.vote('A', voter('fast'));
      const server = http.createServer(app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      try {
        const viaRouter = await request(server).get('/api/poll').expect(200);
        const uninstall = installPollFastPath(server, svc);
        const viaFast = await request(server).get('/api/poll?x=1').expect(200);
        expect(viaFast.text).to.equal(viaRouter.text);
        expect(viaFast.headers['content-type']).to.equal('application/json; charset=utf-8');
        expect(viaFast.headers['cache-control']).to.equal('no-store');
        // Everything else still reaches the app.
        await request(server).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'B', voterId: voter('fast') }).expect(200);
        expect((await request(server).get('/api/poll')).body.total).to.equal(2);
        expect((await request(server).get('/api/polls/abc')).status).to.equal(400);
        // No poll: the app answers its usual 404.
        const nonePrefix = uniquePrefix('none');
        const empty = await h.service(t.db.pool, { keys: (await import('../src/polls/store.js')).pollKeys(nonePrefix) });
        (empty as any).currentJson = async () => null;
        const other = http.createServer(pollApp(empty));
        installPollFastPath(other, empty);
        const res = await request(other).get('/api/poll');
        expect(res.status).to.equal(404);
        expect(res.body.error).to.equal('not_found');
        await empty.close();
        await deleteKeys(h.redis, nonePrefix);
        uninstall();
        expect(server.listeners('request')).to.have.length(1);
      } finally {
        server.close();
      }
    });

    it('publishes every change on the events channel, and another process sees votes at once', async () => {
      const sub = new Redis(REDIS_URL);
      const events: PollEvent[] = [];
      sub.on('message', (_ch, m) => events.push(JSON.parse(m)));
      await sub.subscribe(h.keys.events());
      try {
        const poll = await openPoll();
        // A second process that would otherwise cache for a minute: pub/sub keeps it current.
        const other = await h.service(t.db.pool, { subscribe: true, cacheMs: 60_000 });
        expect((await other.current())?.id).to.equal(poll.id);
        await request(app).post('/api/vote').set('authorization', `Bearer ${TOKEN}`).send({ option: 'C', voterId: voter('ev') }).expect(200);
        await sleep(150);
        expect((await other.current())?.options.map((o) => o.votes)).to.deep.equal([0, 0, 1]);

        const next = await openPoll();
        await sleep(150);
        expect((await other.current())?.id).to.equal(next.id);
        const poll1 = events.filter((e) => e.poll.id === poll.id || e.type === 'poll');
        expect(poll1.map((e) => e.type)).to.deep.equal(['poll', 'tally', 'poll']);
        const tallyEv = poll1[1];
        expect(tallyEv.poll.options.map((o) => o.votes)).to.deep.equal([0, 0, 1]);
        const rotated = poll1[2] as Extract<PollEvent, { type: 'poll' }>;
        expect(rotated.poll.id).to.equal(next.id);
        expect(rotated.previous).to.include({ id: poll.id, total: 1 });
        expect(rotated.previous?.closedAt).to.be.a('string');
      } finally {
        sub.disconnect();
      }
    });
  });
}
