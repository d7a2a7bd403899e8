// The cost of Prometheus scraping /metrics every second on the web process (goal: < 1% of a
// core). Real service (web and worker as child processes, one preview stream on air so the sf_*
// series exist), CPU of the web process read from /proc: a window without scrapes, then the same
// window scraped at 1 Hz. The difference is noisy on a shared machine, so the time the web
// process spends answering each scrape (server-side latency of a local request) is reported too.
import { startService } from './lib/service.js';
import { fmt, percentile, procUsage } from './lib/stats.js';

const WINDOW_S = Number(process.env.WINDOW_S ?? 30);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cpuOver(pid: number, seconds: number, during: () => Promise<void>): Promise<number> {
  const a = procUsage(pid).cpuSeconds;
  const t = performance.now();
  await during();
  const wall = (performance.now() - t) / 1000;
  return (procUsage(pid).cpuSeconds - a) / wall;
}

const svc = await startService({ RTMP_URL: 'off' });
try {
  const key = 'bench-metrics';
  await fetch(`${svc.web.url}/api/stream`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ streamKey: key, screenId: 'testcard' }) });
  await sleep(3000);
  // Warm up: the first scrapes load code paths and JIT them.
  for (let i = 0; i < 20; i++) await (await fetch(`${svc.web.url}/metrics`)).text();

  const idle = await cpuOver(svc.web.child.pid!, WINDOW_S, async () => void (await sleep(WINDOW_S * 1000)));
  const latencies: number[] = [];
  let bytes = 0;
  const scraped = await cpuOver(svc.web.child.pid!, WINDOW_S, async () => {
    const end = Date.now() + WINDOW_S * 1000;
    while (Date.now() < end) {
      const t = performance.now();
      const body = await (await fetch(`${svc.web.url}/metrics`)).text();
      latencies.push(performance.now() - t);
      bytes = body.length;
      await sleep(Math.max(0, 1000 - (performance.now() - t)));
    }
  });
  // Back to back for a cleaner per-scrape CPU figure: N scrapes, CPU of the web process / N.
  const N = 300;
  const a = procUsage(svc.web.child.pid!).cpuSeconds;
  for (let i = 0; i < N; i++) await (await fetch(`${svc.web.url}/metrics`)).text();
  const perScrapeMs = ((procUsage(svc.web.child.pid!).cpuSeconds - a) / N) * 1000;

  console.log(`web process CPU, ${WINDOW_S} s windows: idle ${fmt(idle * 100, 2)}% of a core, scraped at 1 Hz ${fmt(scraped * 100, 2)}% (difference ${fmt((scraped - idle) * 100, 2)}%)`);
  console.log(`per scrape (${N} back to back): ${fmt(perScrapeMs, 2)} ms of CPU → ${fmt(perScrapeMs / 10, 3)}% of a core at one scrape a second`);
  console.log(`scrape latency p50 ${fmt(percentile(latencies, 50), 1)} ms, p99 ${fmt(percentile(latencies, 99), 1)} ms; exposition ${bytes} bytes`);
  await fetch(`${svc.web.url}/api/stream?streamKey=${key}`, { method: 'DELETE', headers: svc.headers });
} finally {
  await svc.close();
}
