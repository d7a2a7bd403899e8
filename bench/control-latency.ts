// Start latency (POST /stream/start → first SSE frame) and stop latency (POST /stream/stop →
// state key gone and feed closed), p50/p95 over N runs, against web + worker processes.
import { Redis } from 'ioredis';
import { startService } from './lib/service.js';
import { openSse } from '../scripts/lib/sse-client.js';
import { percentile, fmt, printMachine } from './lib/stats.js';

const RUNS = Number(process.env.RUNS ?? 20);
// How long a stream runs before its stop. The worker boots a replacement render thread ~0.1 s
// after a start takes the warm one (~0.5 s of CPU on the 2-core machine): a stop within that
// window shares the CPU with it. STOP_AFTER_MS=300 measures that case.
const STOP_AFTER_MS = Number(process.env.STOP_AFTER_MS ?? 1000);

async function main() {
  printMachine();
  const svc = await startService();
  const redis = new Redis(svc.env.REDIS_URL);
  const url = svc.web.url;
  // SETTLE_MS: wait after the service is up (its render thread boots and warms ~0.5 s after the worker is ready).
  await new Promise((r) => setTimeout(r, Number(process.env.SETTLE_MS ?? 0)));
  const starts: number[] = [];
  const stopsState: number[] = [];
  const stopsFeed: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const streamKey = `bench-latency-${i}`;
      const stateKey = `streaming:state:${streamKey}`;
      const t0 = performance.now();
      const res = await fetch(`${url}/stream/start`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ streamKey, fps: 15 }) });
      if (!res.ok) throw new Error(`start: ${res.status} ${await res.text()}`);
      const feed = await openSse(`${url}/stream/feed?streamKey=${streamKey}`);
      await feed.next(1, 10_000);
      starts.push(performance.now() - t0);

      await new Promise((r) => setTimeout(r, STOP_AFTER_MS));
      const t1 = performance.now();
      const stop = await fetch(`${url}/stream/stop`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ streamKey }) });
      if (!stop.ok) throw new Error(`stop: ${stop.status}`);
      const stateGone = (async () => {
        while (await redis.exists(stateKey)) await new Promise((r) => setTimeout(r, 2));
        return performance.now() - t1;
      })();
      const feedClosed = feed.closed.then(() => performance.now() - t1);
      const [s, f] = await Promise.all([stateGone, feedClosed]);
      stopsState.push(s);
      stopsFeed.push(f);
    }
  } finally {
    redis.disconnect();
    await svc.close();
  }
  const both = stopsState.map((s, i) => Math.max(s, stopsFeed[i]));
  console.log(`control-latency: ${RUNS} runs (web and worker in separate processes, one local Redis; each stream stopped ${STOP_AFTER_MS} ms after its first frame)`);
  // In order: an outlier's place (the first start, every n-th) says more than the p95 alone.
  console.log(`starts in order (ms): ${starts.map((v) => fmt(v, 0)).join(' ')}`);
  console.log(`start  POST /stream/start → first SSE frame:        p50 ${fmt(percentile(starts, 50))} ms  p95 ${fmt(percentile(starts, 95))} ms  (goal p50 ≤ 50 ms; the Python version: 26–65 ms)`);
  console.log(`stop   POST /stream/stop → state gone:             p50 ${fmt(percentile(stopsState, 50))} ms  p95 ${fmt(percentile(stopsState, 95))} ms`);
  console.log(`stop   POST /stream/stop → feed closed:            p50 ${fmt(percentile(stopsFeed, 50))} ms  p95 ${fmt(percentile(stopsFeed, 95))} ms`);
  console.log(`stop   POST /stream/stop → state gone and closed:  p50 ${fmt(percentile(both, 50))} ms  p95 ${fmt(percentile(both, 95))} ms  (goal p50 ≤ 20 ms)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
