// Rolling restart (issue 9): 4 streams on 2 workers; the workers are restarted one after the
// other (SIGTERM, then started again), as a deploy does. Each stream's RTMP output is read back
// by an FFmpeg reader; the figure is the longest gap in each stream's output (goal ≤ 5 s).
import { startBenchRtmp } from './lib/rtmp-server.js';
import { clusterEnv, spawnWorker, startCluster } from './lib/cluster.js';
import { watchRtmp } from '../test/helpers/rtmp-watch.js';
import { printMachine } from './lib/stats.js';

const STREAMS = Number(process.env.STREAMS ?? 4);
const SETTLE_MS = Number(process.env.SETTLE_SECONDS ?? 10) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitAll(check: () => boolean, ms: number, what: string) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

async function main() {
  printMachine();
  const rtmp = await startBenchRtmp();
  const env = clusterEnv({ RTMP_URL: rtmp.base });
  const c = await startCluster(env, 2);
  const keys = Array.from({ length: STREAMS }, (_, i) => `bench-rolling-${i}`);
  const watches = keys.map((k) => watchRtmp(`${rtmp.base}/${k}`));
  try {
    for (const k of keys) await c.post('/api/stream', { streamKey: k, screenId: 'testcard', fps: 5 });
    await waitAll(() => watches.every((w) => w.onAir()), 60_000, 'every stream on air');
    await sleep(3000);
    const t0 = Date.now();
    const restarts: number[] = [];
    for (let i = 0; i < c.workers.length; i++) {
      const old = c.workers[i];
      const t = Date.now();
      await old.kill('SIGTERM');
      c.workers[i] = await spawnWorker(env);
      restarts.push(Date.now() - t);
      await waitAll(() => watches.every((w) => w.onAir()), 60_000, 'every stream back on air');
      await sleep(SETTLE_MS);
    }
    const gaps = watches.map((w) => w.longestGap(t0));
    console.log(`rolling-restart: ${STREAMS} streams on 2 workers (${env.WIDTH}x${env.HEIGHT}, RTMP server: ${rtmp.kind}); each worker SIGTERMed and started again, one after the other`);
    console.log(`worker restart (SIGTERM → exited → new worker ready): ${restarts.map((r) => `${(r / 1000).toFixed(1)} s`).join(', ')}`);
    keys.forEach((k, i) => console.log(`  ${k}: longest gap in its RTMP output ${(gaps[i] / 1000).toFixed(2)} s`));
    const worst = Math.max(...gaps);
    console.log(`longest gap over all streams: ${(worst / 1000).toFixed(2)} s (goal ≤ 5 s) → ${worst <= 5000 ? 'MET' : 'NOT MET'}`);
    for (const k of keys) await c.stop(k);
  } finally {
    watches.forEach((w) => w.close());
    await c.close();
    await rtmp.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
