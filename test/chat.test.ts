// Chat votes end to end: a local server speaking Twitch's IRC subset (test/helpers/twitch-irc.ts),
// the bridge, the real PollService on PostgreSQL and Redis. One vote per account, garbage
// ignored, no vote lost across a drop or a RECONNECT, a refused token said clearly (and
// redacted), one bridge per channel across nodes, announcements, and the state on air.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Subscriber } from '../src/redis/index.js';
import request from 'supertest';
import { migrate } from '../src/db/index.js';
import { countVotes } from '../src/polls/repo.js';
import type { PollService } from '../src/polls/service.js';
import type { PollView } from '../src/polls/types.js';
import { ChatOnAirFeed, chatKeys, startChat, type ChatHandle, type ChatKeys } from '../src/chat/index.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { PollHarness, REDIS_URL, deleteKeys, uniquePrefix } from './helpers/polls.js';
import { FakeTwitch, type ChatLine } from './helpers/twitch-irc.js';
import { testConfig, waitFor, sleep } from './helpers/env.js';
import { captureLog, startSecStack } from './security/harness.js';
import { launchBrowser } from './helpers/browser.js';
import { promtool, sample } from './helpers/metrics.js';

const OPTIONS = ['Ryu', 'Ken', 'Chun-Li', 'Akuma'];
const votesInAny = (t: TestDatabase, pollId: number) => countVotes(t.db.pool, pollId).then((c) => Object.values(c).reduce((a, b) => a + b, 0));

describe('chat votes (Twitch IRC stand-in, PostgreSQL, Redis)', function () {
  this.timeout(90_000);
  let t: TestDatabase;
  let h: PollHarness;
  let svc: PollService;
  let fake: FakeTwitch;
  let url: string;
  let keys: ChatKeys;
  let prefix: string;
  const handles: ChatHandle[] = [];
  const conns: Redis[] = [];

  const channel = () => `sf${crypto.randomBytes(4).toString('hex')}`;
  const redis = () => {
    const r = new Redis(REDIS_URL);
    conns.push(r);
    return r;
  };
  function chat(ch: string, env: Record<string, string> = {}, nodeId?: string, r = redis()): ChatHandle {
    const cfg = testConfig({ TWITCH_CHANNEL: ch, TWITCH_IRC_URL: url, CHAT_LOCK_TTL_MS: '1500', ...env });
    const handle = startChat(cfg, { redis: r, polls: svc }, { keys, nodeId, backoff: { minMs: 50, maxMs: 300 }, authRetryMs: 500 })!;
    handles.push(handle);
    return handle;
  }
  async function openPoll(): Promise<PollView> {
    return (await svc.generate({ draft: { question: `Chat poll ${crypto.randomBytes(2).toString('hex')}?`, options: OPTIONS } })).poll;
  }
  const connected = (c: ChatHandle) => waitFor(async () => (await c.status()).connected, 20_000, 50, 'the bridge to join');
  const votesIn = (pollId: number) => countVotes(t.db.pool, pollId).then((c) => Object.values(c).reduce((a, b) => a + b, 0));
  const lines = (from: number, n: number, option = (i: number) => 'ABCD'[i % 4], form = (k: string) => `!vote ${k}`): ChatLine[] =>
    Array.from({ length: n }, (_, i) => ({ userId: String(from + i), text: form(option(from + i)) }));

  before(async () => {
    t = await DATABASE_KINDS.find((k) => !k.embedded)!.open();
    await migrate(t.db.pool);
    prefix = uniquePrefix('chat');
    keys = chatKeys(prefix);
    h = new PollHarness(prefix);
    svc = await h.service(t.db.pool, { subscribe: true });
    fake = new FakeTwitch({ token: 'goodtoken-0123456789' });
    url = await fake.start();
  });
  afterEach(async () => {
    for (const c of handles.splice(0)) await c.close();
    for (const r of conns.splice(0)) r.disconnect();
  });
  after(async () => {
    await fake?.close();
    const r = new Redis(REDIS_URL);
    await deleteKeys(r, prefix).catch(() => undefined);
    r.disconnect();
    await h?.close();
    await t?.cleanup();
  });

  it('500 distinct accounts vote once each (!vote A, !B, bare c); a repeated account does not count twice', async () => {
    const poll = await openPoll();
    const ch = channel();
    const c = chat(ch, { CHAT_VOTE_BARE: 'true' });
    await connected(c);
    const forms = [(k: string) => `!vote ${k}`, (k: string) => `!${k.toLowerCase()}`, (k: string) => k.toLowerCase()];
    fake.chat(ch, lines(1, 500, undefined, (k) => forms[k.charCodeAt(0) % 3](k)));
    // Every account again, for another option: nothing changes.
    fake.chat(ch, lines(1, 500, (i) => 'ABCD'[(i + 1) % 4]));
    await waitFor(async () => (await votesIn(poll.id)) === 500, 30_000, 100, '500 votes in PostgreSQL');
    await waitFor(async () => (c.stats()?.duplicates ?? 0) >= 500 && c.stats()?.inFlight === 0, 10_000, 50, 'the repeats');
    await sleep(300);
    const pg = await countVotes(t.db.pool, poll.id);
    expect(pg).to.deep.equal({ A: 125, B: 125, C: 125, D: 125 });
    expect(await h.tally(poll.id)).to.deep.equal({ A: 125, B: 125, C: 125, D: 125 });
    const { rows } = await t.db.pool.query(`SELECT voter_id FROM votes WHERE poll_id = $1 ORDER BY voter_id LIMIT 1`, [poll.id]);
    expect(rows[0].voter_id).to.match(/^twitch:\d+$/);
    expect(c.stats()).to.include({ votes: 500, messages: 1000, connected: true });
  });

  it('ignores malformed, oversized and tag-less lines and votes for no option, and keeps the connection', async () => {
    const poll = await openPoll();
    const ch = channel();
    const c = chat(ch);
    await connected(c);
    fake.raw(ch, [
      '@@@ garbage',
      ':only-a-prefix',
      `@user-id=9001;display-name=Big :big!big@big.tmi.twitch.tv PRIVMSG #${ch} :!vote A ${'x'.repeat(20_000)}`,
      `:notags!notags@x.tmi.twitch.tv PRIVMSG #${ch} :!vote A`,
      `@user-id=abc;display-name=Bad :bad!bad@x PRIVMSG #${ch} :!vote A`,
      `@user-id=9002 :p!p@x PRIVMSG #${ch} :!vote E`,
      `@user-id=9003 :p!p@x PRIVMSG #${ch} :A`, // bare votes are off here
      '\u0000\u0001\u0002',
    ]);
    fake.chat(ch, [{ userId: '9004', text: '!vote B' }]);
    await waitFor(async () => (await votesIn(poll.id)) === 1, 20_000, 50, 'the one valid vote');
    await sleep(200);
    expect(await countVotes(t.db.pool, poll.id)).to.deep.equal({ B: 1 });
    expect(c.stats()).to.include({ connected: true, reconnects: 0, votes: 1 });
    expect(c.stats()!.ignored).to.be.at.least(5);
  });

  it('answers PING, and loses no vote after the server drops the connection or sends RECONNECT', async () => {
    const poll = await openPoll();
    const ch = channel();
    const c = chat(ch);
    await connected(c);
    fake.ping();
    await waitFor(() => fake.received.some((l) => l.startsWith('PONG')), 5000, 20, 'PONG');
    fake.chat(ch, lines(20_001, 100));
    await waitFor(async () => (await votesIn(poll.id)) === 100, 20_000, 50, 'votes before the drop');
    const joins = fake.joins;
    fake.drop();
    await waitFor(() => fake.joins > joins && fake.joined(ch) === 1, 20_000, 20, 'the bridge to rejoin after a drop');
    fake.chat(ch, lines(20_101, 100));
    await waitFor(async () => (await votesIn(poll.id)) === 200, 20_000, 50, 'votes after the drop');
    fake.reconnect();
    await waitFor(() => fake.joins > joins + 1 && fake.joined(ch) === 1, 20_000, 20, 'the bridge to rejoin after RECONNECT');
    fake.chat(ch, lines(20_201, 100));
    await waitFor(async () => (await votesIn(poll.id)) === 300, 20_000, 50, 'votes after RECONNECT');
    expect(c.stats()!.reconnects).to.equal(2);
    expect(fake.maxJoined).to.be.at.most(1); // never two connections of one bridge in the channel
  });

  it('a refused token: a clear error in /api/health, /api/chat and the log, the token redacted everywhere', async () => {
    const token = 'badtoken-9876543210';
    const ch = channel();
    const log = captureLog();
    const stack = await startSecStack({ TWITCH_CHANNEL: ch, TWITCH_IRC_URL: url, TWITCH_USERNAME: 'sfbot', TWITCH_OAUTH_TOKEN: `oauth:${token}`, LOG_LEVEL: 'info' });
    try {
      const health = await waitFor(
        async () => {
          const res = await request(stack.url).get('/api/health');
          return res.body.chat?.lastError ? res : null;
        },
        20_000,
        100,
        'the login error in /api/health',
      );
      const text = JSON.stringify(health.body.chat);
      expect(health.body.chat).to.include({ platform: 'twitch', channel: ch, connected: false });
      expect(health.body.chat.lastError).to.match(/Twitch refused the login of "sfbot": Login authentication failed — check TWITCH_USERNAME and TWITCH_OAUTH_TOKEN/);
      expect(text).not.to.include(token);
      const api = await request(stack.url).get('/api/chat');
      expect(api.body).to.include({ configured: true, connected: false });
      expect(JSON.stringify(api.body)).not.to.include(token);
      await waitFor(() => log.lines.some((l) => l.includes('Login authentication failed')), 5000, 20, 'the log line');
      const mine = log.lines.filter((l) => l.includes('[CHAT]') || l.includes('"CHAT"'));
      expect(mine.join('\n')).to.include('Login authentication failed');
      expect(log.lines.join('\n')).not.to.include(token);
      // It does not hammer the server: one attempt per authRetry (60 s by default).
      const passes = fake.received.filter((l) => l.startsWith('PASS'));
      expect(passes.length).to.equal(1);
      expect(passes[0]).to.equal(`PASS oauth:${token}`); // (the server saw it; nobody else did)
    } finally {
      log.stop();
      await stack.close();
    }
  });

  it('the web role runs the bridge (anonymous read-only login): votes count, the dashboard shows it under the CSP', async () => {
    const ch = channel();
    const stack = await startSecStack({ TWITCH_CHANNEL: ch, TWITCH_IRC_URL: url, CHAT_VOTE_BARE: 'true' });
    const b = await launchBrowser();
    try {
      const poll = await stack.role.polls.ensurePoll();
      await waitFor(() => fake.joined(ch) === 1, 20_000, 20, 'the web role to join');
      fake.chat(ch, [{ userId: '777', text: 'a' }, { userId: '778', text: '!vote b' }]);
      await waitFor(async () => stack.role.chat?.stats()?.votes === 2, 20_000, 20, 'two chat votes');
      expect(await votesInAny(stack.t, poll.id)).to.equal(2);
      const metrics = (await request(stack.url).get('/metrics')).text;
      const labels = { platform: 'twitch', channel: ch };
      expect(sample(metrics, 'sf_chat_votes_total', { ...labels, result: 'accepted' })).to.equal(2);
      expect(sample(metrics, 'sf_chat_connected', labels)).to.equal(1);
      expect(sample(metrics, 'sf_chat_bridge_running', labels)).to.equal(1);
      expect(sample(metrics, 'sf_chat_messages_total', labels)).to.equal(2);
      expect(promtool(metrics)).to.deep.equal({ status: 0, output: '' });
      const page = await b.browser.newPage();
      const violations: string[] = [];
      page.on('console', (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
      await page.goto(`${stack.url}/`);
      await page.waitForSelector('#chat-state:text("connected")', { timeout: 10_000 });
      const text = await page.textContent('#chat-stats');
      expect(text).to.include(`twitch #${ch}`).and.include('votes counted2');
      expect(violations).to.deep.equal([]);
    } finally {
      await b.close();
      await stack.close();
    }
  });

  it('two web nodes never both run the bridge of a channel; the other takes over when one stops or loses Redis', async () => {
    const poll = await openPoll();
    const ch = channel();
    fake.maxJoined = 0;
    const [r1, r2] = [redis(), redis()];
    const a = chat(ch, {}, 'node-a', r1);
    const b = chat(ch, {}, 'node-b', r2);
    const first = await waitFor(async () => ((await a.status()).connected ? (await a.status()).node : null), 20_000, 50, 'one bridge');
    await sleep(2000); // several lock periods: the other stays on standby
    expect([a.runner.running, b.runner.running].filter(Boolean)).to.have.length(1);
    expect(fake.joined(ch)).to.equal(1);
    const [leader, standby] = first === 'node-a' ? [a, b] : [b, a];
    fake.chat(ch, lines(30_001, 50));
    await waitFor(async () => (await votesIn(poll.id)) === 50, 20_000, 50, 'votes through the leader');

    await leader.close(); // releases the lock: the standby takes over at its next tick
    await waitFor(() => standby.runner.running && fake.joined(ch) === 1, 10_000, 20, 'the standby to take over');
    fake.chat(ch, lines(30_051, 50));
    await waitFor(async () => (await votesIn(poll.id)) === 100, 20_000, 50, 'votes through the new leader');

    // The new leader loses Redis (a partition): it stops its bridge before its lock can expire,
    // and a third node takes over after that.
    const c = chat(ch, {}, 'node-c');
    (standby === b ? r2 : r1).disconnect();
    await waitFor(() => c.runner.running && fake.joined(ch) === 1, 20_000, 20, 'a third node to take over');
    fake.chat(ch, lines(30_101, 50));
    await waitFor(async () => (await votesIn(poll.id)) === 150, 20_000, 50, 'votes through the third node');
    expect(fake.maxJoined, 'never two bridges in the channel at once').to.equal(1);
  });

  it('CHAT_ANNOUNCE posts a new poll and the closed poll\'s result; the on-air feed sees the connected bridge', async () => {
    await openPoll();
    const ch = channel();
    const sub = redis();
    const feed = new ChatOnAirFeed(new Subscriber(sub), { keys });
    await feed.start();
    const c = chat(ch, { TWITCH_USERNAME: 'sfbot', TWITCH_OAUTH_TOKEN: 'goodtoken-0123456789', CHAT_ANNOUNCE: 'true' });
    await connected(c);
    await waitFor(() => feed.current()?.channel === ch, 10_000, 20, 'the on-air feed');
    expect(feed.current()).to.deep.equal({ platform: 'twitch', channel: ch });
    fake.chat(ch, [{ userId: '40001', text: '!vote B' }]);
    await waitFor(async () => c.stats()?.votes === 1, 10_000, 20, 'a vote');
    const next = await openPoll();
    await waitFor(() => fake.said.length >= 2, 10_000, 20, 'two announcements');
    await sleep(300);
    expect(fake.said).to.have.length(2); // once each, though the change arrives twice (own apply + echo)
    expect(fake.said[0]).to.match(/Poll closed: .* B\) Ken with 1 of 1 votes \(100%\)/);
    expect(fake.said[1]).to.include(`New poll: ${next.question}`).and.include('!A, !B, !C or !D');
    await c.close();
    await waitFor(() => feed.current() === null, 10_000, 20, 'the feed to drop the bridge');
    await feed.close();
  });
});
