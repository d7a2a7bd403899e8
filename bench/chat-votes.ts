// Chat votes (issue 12): a local Twitch IRC stand-in (test/helpers/twitch-irc.ts, same process)
// blasts one channel with chat; the bridge turns it into votes through the real PollService
// (PostgreSQL first, then Redis).
//  1. Throughput: CHAT_VOTERS distinct accounts vote once (plus 25 % repeats and 25 % chatter),
//     as fast as the socket takes it; chat messages/s and durable votes/s until the last vote
//     is committed (checked exactly in PostgreSQL and Redis).
//  2. Delay: CHAT_RATE messages/s for CHAT_SECONDS; delay from the message leaving the server to
//     the vote showing in a live poll view on another Redis connection (what the poll scene
//     reads), p50/p95.
// BENCH_DB=pg (default) | pglite | both.
import { Redis } from 'ioredis';
import { Subscriber } from '../src/redis/index.js';
import { ChatBridge } from '../src/chat/bridge.js';
import { TwitchChat } from '../src/chat/twitch.js';
import { PollLiveView } from '../src/polls/live-view.js';
import { countVotes } from '../src/polls/repo.js';
import { PollStore } from '../src/polls/store.js';
import { FakeTwitch, type ChatLine } from '../test/helpers/twitch-irc.js';
import { REDIS_URL } from '../test/helpers/polls.js';
import { benchKinds, startPollApp } from './lib/poll-app.js';
import { fmt, percentile, printMachine } from './lib/stats.js';

process.env.BENCH_DB ??= 'pg';
const VOTERS = Number(process.env.CHAT_VOTERS ?? 50_000);
const RATE = Number(process.env.CHAT_RATE ?? 2000);
const SECONDS = Number(process.env.CHAT_SECONDS ?? 5);
const CH = 'benchchannel';
const OPTIONS = ['Ryu', 'Ken', 'Chun-Li', 'Akuma'];
let failed = false;
printMachine();

const until = async (fn: () => boolean | Promise<boolean>, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const tick = () => new Promise((r) => setImmediate(r));

for (const kind of benchKinds()) {
  const app = await startPollApp(kind);
  const fake = new FakeTwitch();
  const url = await fake.start();
  const bridge = new ChatBridge(new TwitchChat({ url, channel: CH }), app.polls, { bare: true });
  const sub = new Redis(REDIS_URL);
  const viewRedis = new Redis(REDIS_URL);
  const view = new PollLiveView({ store: new PollStore(viewRedis, app.polls.store.k), subscriber: new Subscriber(sub), refreshMs: 1000 });
  try {
    await view.start();
    bridge.start();
    await until(() => bridge.stats().connected, 10_000, 'the bridge to join');

    // 1. Throughput.
    let { poll } = await app.polls.generate({ draft: { question: 'Bench: who wins?', options: OPTIONS } });
    const lines: ChatLine[] = [];
    for (let i = 1; i <= VOTERS; i++) {
      lines.push({ userId: String(1_000_000 + i), text: ['!vote A', '!b', 'c', '!vote D'][i % 4] });
      if (i % 4 === 0) lines.push({ userId: String(1_000_000 + i - 1), text: '!vote A' }); // a repeat
      if (i % 4 === 2) lines.push({ userId: String(5_000_000 + i), text: 'gg what a round' }); // chatter
    }
    const frames = lines.map((l) => fake.privmsgLine(CH, l));
    const t0 = performance.now();
    for (let i = 0; i < frames.length; i += 100) {
      fake.raw(CH, frames.slice(i, i + 100));
      if (i % 2000 === 0) await tick(); // let the socket drain, as a real server's writes would
    }
    await until(() => bridge.stats().votes >= VOTERS && bridge.stats().inFlight === 0, 120_000, 'every vote committed');
    const secs = (performance.now() - t0) / 1000;
    const s = bridge.stats();
    const pg = Object.values(await countVotes(app.t.db.pool, poll.id)).reduce((a, b) => a + b, 0);
    const redis = Object.values(await app.redis.hgetall(app.polls.store.k.tally(poll.id))).reduce((a, b) => a + Number(b), 0);
    console.log(
      `chat-votes [${kind.name}] ${frames.length} chat messages (${VOTERS} accounts, ${s.duplicates} repeats, chatter) in ${fmt(secs, 2)} s: ` +
        `${fmt(frames.length / secs, 0)} msgs/s, ${fmt(VOTERS / secs, 0)} durable votes/s; PostgreSQL ${pg}, Redis ${redis}, ` +
        `${pg === VOTERS && redis === VOTERS ? 'EXACT' : 'MISMATCH'}; dropped ${s.dropped}, failed ${s.failed}`,
    );
    if (pg !== VOTERS || redis !== VOTERS || VOTERS / secs < 5000) failed = true;

    // 2. Delay to the live view, at a steady rate.
    poll = (await app.polls.generate({ draft: { question: 'Bench: delay', options: OPTIONS } })).poll;
    await until(() => view.current()?.id === poll.id, 10_000, 'the new poll in the view');
    const sentAt: number[] = [];
    const seenAt: number[] = [];
    view.subscribe((v) => {
      if (!v || v.id !== poll.id) return;
      const now = performance.now();
      while (seenAt.length < v.total) seenAt.push(now);
    });
    const total = RATE * SECONDS;
    const start = performance.now();
    let n = 0;
    while (n < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
      const batch: string[] = [];
      for (; n < due; n++) {
        batch.push(fake.privmsgLine(CH, { userId: String(9_000_000 + n), text: '!vote B' }));
        sentAt.push(performance.now());
      }
      if (batch.length) fake.raw(CH, batch);
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => seenAt.length >= total, 60_000, 'every vote in the live view');
    const delays = sentAt.map((t, i) => seenAt[i] - t);
    console.log(
      `chat-votes [${kind.name}] delay chat message → vote in the live poll view at ${RATE} msgs/s for ${SECONDS} s: ` +
        `p50 ${fmt(percentile(delays, 50), 1)} ms, p95 ${fmt(percentile(delays, 95), 1)} ms, max ${fmt(Math.max(...delays), 1)} ms`,
    );
  } catch (err) {
    console.error(`chat-votes [${kind.name}] failed: ${(err as Error).message}`);
    failed = true;
  } finally {
    await bridge.stop();
    await view.close();
    sub.disconnect();
    viewRedis.disconnect();
    await fake.close();
    await app.close();
  }
}
process.exit(failed ? 1 : 0);
