// Diagnostic runner: Redis, queues, workers and (with --full) a start/stop round trip through
// the HTTP API and the SSE feed. One ✅/❌ line per check; exit 1 when any check fails.
import 'dotenv/config';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseConfig, ConfigError } from '../src/config.js';
import { keys, setDefaultStreamKey } from '../src/keys.js';
import { createQueues, closeQueues, enqueue } from '../src/jobs/producer.js';
import { liveWorkers } from '../src/jobs/runtime.js';
import { openSse, isCompleteJpeg } from './lib/sse-client.js';

const { values: args } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    url: { type: 'string' },
    token: { type: 'string' },
    timeout: { type: 'string', default: '5000' },
  },
});

let failures = 0;
const ok = (msg: string) => console.log(`✅ ${msg}`);
const bad = (msg: string) => {
  failures += 1;
  console.log(`❌ ${msg}`);
};
const info = (msg: string) => console.log(`ℹ️  ${msg}`);
const why = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms))),
  ]);
}

async function main(): Promise<number> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    bad(err instanceof ConfigError ? err.message : why(err));
    return 1;
  }
  setDefaultStreamKey(config.DEFAULT_STREAM_KEY);
  const timeoutMs = Number(args.timeout);
  const url = args.url ?? `http://localhost:${config.PORT}`;
  const token = args.token ?? config.API_TOKEN;

  // 1. Redis
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  let lastError = '';
  redis.on('error', (err) => (lastError = why(err)));
  try {
    const t = performance.now();
    await redis.connect();
    await redis.ping();
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    ok(`Redis reachable at ${config.REDIS_URL} (v${version}, ping ${(performance.now() - t).toFixed(1)} ms)`);
  } catch (err) {
    bad(`cannot reach Redis at ${config.REDIS_URL} (${lastError || why(err)}): start redis-server or set REDIS_URL`);
    redis.disconnect();
    return failures;
  }

  // 2. Queues
  const queues = createQueues(config.REDIS_URL, { prefix: config.QUEUE_PREFIX, isWorker: false, getEvents: true });
  try {
    await Promise.all(Object.values(queues).map((q) => q.ready()));
    for (const [name, q] of Object.entries(queues)) {
      try {
        const h = await withTimeout(q.checkHealth(), timeoutMs, `queue ${q.name}`);
        ok(`queue ${config.QUEUE_PREFIX}:${q.name} (${name} jobs): ${h.waiting} waiting, ${h.active} active, ${h.failed} failed`);
      } catch (err) {
        bad(`queue ${q.name} cannot be read: ${why(err)}`);
      }
    }

    // 3. Workers
    const workers = await liveWorkers(redis, config.HEARTBEAT_TTL_SECONDS);
    if (workers.length) ok(`${workers.length} worker(s) alive: ${workers.join(', ')}`);
    else bad(`no worker heartbeat in the last ${config.HEARTBEAT_TTL_SECONDS} s: start one (\`npm run worker\` or \`npm start\`)`);
    try {
      const t = performance.now();
      const job = await enqueue(queues, 'status', { streamKey: config.DEFAULT_STREAM_KEY }, { timeoutMs });
      const result = await withTimeout(
        new Promise<{ answered_by?: string }>((resolve, reject) => {
          job.on('succeeded', resolve);
          job.on('failed', reject);
        }),
        timeoutMs,
        'status job',
      );
      ok(`a worker (${result.answered_by}) answered a status job in ${(performance.now() - t).toFixed(0)} ms`);
    } catch (err) {
      bad(`no worker answered a status job: ${why(err)}`);
    }

    // 4. What Redis says now (information, as HGETALL streaming:state would).
    const state = await redis.hgetall(keys.state(config.DEFAULT_STREAM_KEY));
    info(`${keys.state(config.DEFAULT_STREAM_KEY)}: ${Object.keys(state).length ? JSON.stringify(state) : '(empty: not streaming)'}`);
    info(`${keys.active()}: ${JSON.stringify(await redis.smembers(keys.active()))}`);
    const stop = await redis.get(keys.stopRequested(config.DEFAULT_STREAM_KEY));
    if (stop) info(`${keys.stopRequested(config.DEFAULT_STREAM_KEY)} = ${stop} (TTL ${await redis.ttl(keys.stopRequested(config.DEFAULT_STREAM_KEY))} s)`);

    // 5. Round trip through the HTTP API and the feed.
    if (args.full) await roundTrip(url, token, redis, timeoutMs);
  } finally {
    await closeQueues(queues, 500);
    redis.disconnect();
  }
  return failures;
}

async function roundTrip(url: string, token: string | undefined, redis: Redis, timeoutMs: number): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const streamKey = `diagnose-${crypto.randomBytes(3).toString('hex')}`;
  try {
    const health = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!health.ok) return bad(`${url}/api/health answered ${health.status}: ${await health.text()}`);
    ok(`web answers at ${url}`);
  } catch (err) {
    return bad(`cannot reach the web process at ${url} (${why(err)}): is it running? (--url to point elsewhere)`);
  }
  const t0 = performance.now();
  const start = await fetch(`${url}/stream/start`, { method: 'POST', headers, body: JSON.stringify({ streamKey, fps: 10 }) });
  if (!start.ok) return bad(`POST /stream/start answered ${start.status}: ${await start.text()}`);
  ok(`POST /stream/start accepted (stream ${streamKey})`);
  const feed = await openSse(`${url}/stream/feed?streamKey=${streamKey}`);
  try {
    const [first] = await feed.next(1, timeoutMs);
    const jpeg = Buffer.from(first, 'base64');
    if (first === 'stream_stopped') bad('the feed closed before any frame (did the worker fail? see its [STREAMING-TASK] logs)');
    else if (!isCompleteJpeg(jpeg)) bad('the first SSE frame is not a complete JPEG');
    else ok(`first preview frame after ${(performance.now() - t0).toFixed(0)} ms (${jpeg.length} bytes JPEG)`);
  } catch (err) {
    bad(`no preview frame on /stream/feed: ${why(err)} (is a worker running?)`);
  }
  const t1 = performance.now();
  const stop = await fetch(`${url}/stream/stop`, { method: 'POST', headers, body: JSON.stringify({ streamKey }) });
  if (!stop.ok) bad(`POST /stream/stop answered ${stop.status}: ${await stop.text()}`);
  else ok('POST /stream/stop accepted');
  await Promise.race([feed.closed, new Promise((r) => setTimeout(r, timeoutMs))]);
  feed.close();
  if (feed.messages.at(-1) === 'stream_stopped') ok(`feed closed with stream_stopped after ${(performance.now() - t1).toFixed(0)} ms`);
  else bad('the feed did not end with stream_stopped');
  const left = await redis.exists(keys.state(streamKey));
  if (left) bad(`${keys.state(streamKey)} is still there after the stop`);
  else ok('stream state cleaned from Redis');
}

main()
  .then((n) => {
    console.log(n ? `\n${n} check(s) failed` : '\nall checks passed');
    process.exit(n ? 1 : 0);
  })
  .catch((err) => {
    console.log(`❌ diagnostic runner failed: ${why(err)}`);
    process.exit(1);
  });
