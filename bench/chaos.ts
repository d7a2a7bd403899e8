// Chaos soak (issue 9), bounded to 10 minutes (BENCH_SECONDS, default 120): 4 streams on 2
// workers while a script, at random moments, kills an FFmpeg (SIGKILL), a worker (SIGKILL, then
// started again), the RTMP server (down a few seconds) and Redis (SIGKILL, restarted empty).
// Each stream's RTMP output is read back; figures: the share of seconds each stream was on air,
// and the streams lost (not on air again within 60 s of the end of the chaos). Faults come every
// CHAOS_MIN_GAP..CHAOS_MAX_GAP seconds (default 10..25).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { freePort, redisAnswers } from '../src/embedded/redis.js';
import { startRtmpServer, type RtmpServerHandle } from '../src/render/rtmp-server.js';
import { clusterEnv, spawnWorker, startCluster } from './lib/cluster.js';
import { watchRtmp, type RtmpWatch } from '../test/helpers/rtmp-watch.js';
import { printMachine } from './lib/stats.js';

const SECONDS = Math.min(600, Number(process.env.BENCH_SECONDS ?? 120));
const STREAMS = Number(process.env.STREAMS ?? 4);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(a: T[]) => a[Math.floor(Math.random() * a.length)];
const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await redisAnswers(`redis://127.0.0.1:${port}`, 300)); i++) await sleep(50);
  return child;
}

/** Share of whole seconds in [from, to) with at least one frame. */
function onAirShare(w: RtmpWatch, from: number, to: number): number {
  const secs = Math.floor((to - from) / 1000);
  const hit = new Set(w.arrivals.filter((a) => a >= from && a < from + secs * 1000).map((a) => Math.floor((a - from) / 1000)));
  return hit.size / secs;
}

async function main() {
  printMachine();
  const [redisPort, rtmpPort] = [await freePort(), await freePort()];
  let redisProc = await startRedis(redisPort);
  let rtmp: RtmpServerHandle | null = await startRtmpServer({ port: rtmpPort, host: '127.0.0.1' });
  const base = `rtmp://127.0.0.1:${rtmpPort}/live`;
  const env = clusterEnv({ RTMP_URL: base, REDIS_URL: `redis://127.0.0.1:${redisPort}` });
  const c = await startCluster(env, 2);
  const keys = Array.from({ length: STREAMS }, (_, i) => `bench-chaos-${i}`);
  const watches = keys.map((k) => watchRtmp(`${base}/${k}`));
  const events: string[] = [];
  const faults: Array<{ at: number; name: string }> = [];
  try {
    for (const k of keys) await c.post('/api/stream', { streamKey: k, screenId: 'testcard', fps: 5 });
    while (!watches.every((w) => w.onAir())) await sleep(200);
    const t0 = Date.now();
    const [minGap, maxGap] = [Number(process.env.CHAOS_MIN_GAP ?? 10), Number(process.env.CHAOS_MAX_GAP ?? 25)].map((v) => v * 1000);
    const end = t0 + SECONDS * 1000;
    const actions: Record<string, () => Promise<void>> = {
      async ffmpeg() {
        // Publishers only (they encode with libx264); the readers copy.
        const pids = execFileSync('pgrep', ['-f', `libx264.*127.0.0.1:${rtmpPort}/live`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
        if (pids.length) process.kill(Number(pick(pids)), 'SIGKILL');
      },
      async worker() {
        const i = Math.floor(Math.random() * c.workers.length);
        await c.workers[i].kill('SIGKILL');
        await sleep(3000);
        c.workers[i] = await spawnWorker(env);
      },
      async rtmp() {
        await rtmp?.close();
        rtmp = null;
        await sleep(between(3000, 10_000));
        rtmp = await startRtmpServer({ port: rtmpPort, host: '127.0.0.1' });
      },
      async redis() {
        redisProc.kill('SIGKILL');
        await sleep(1000);
        redisProc = await startRedis(redisPort);
      },
    };
    while (Date.now() < end - 20_000) {
      await sleep(between(minGap, maxGap));
      const name = pick(Object.keys(actions));
      events.push(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${name}`);
      faults.push({ at: Date.now(), name });
      await actions[name]().catch((err) => events.push(`  (${name} failed: ${err})`));
    }
    while (Date.now() < end) await sleep(200);
    // Recovery: a stream on air again within 60 s of the end counts as kept.
    const recoverUntil = Date.now() + 60_000;
    while (Date.now() < recoverUntil && !watches.every((w) => w.onAir(2000))) await sleep(500);
    const lost = keys.filter((_, i) => !watches[i].onAir(2000));
    console.log(`chaos: ${STREAMS} streams on 2 workers for ${SECONDS} s (${env.WIDTH}x${env.HEIGHT}); faults: ${events.filter((e) => !e.startsWith(' ')).length}`);
    for (const e of events) console.log(`  ${e}`);
    // What each fault cost: the longest gap of any stream from the fault to the next one.
    faults.forEach((f, i) => {
      const to = faults[i + 1]?.at ?? end;
      const worst = Math.max(...watches.map((w) => w.longestGap(f.at, to)));
      console.log(`  fault ${f.name} at ${((f.at - t0) / 1000).toFixed(0)} s: longest gap after it ${(worst / 1000).toFixed(1)} s`);
    });
    keys.forEach((k, i) => console.log(`  ${k}: on air ${(onAirShare(watches[i], t0, end) * 100).toFixed(1)} % of the time, longest gap ${(watches[i].longestGap(t0, end) / 1000).toFixed(1)} s`));
    const worst = Math.min(...watches.map((w) => onAirShare(w, t0, end)));
    console.log(`streams lost: ${lost.length}${lost.length ? ` (${lost.join(', ')})` : ''} (goal 0); lowest on-air share ${(worst * 100).toFixed(1)} % (goal ≥ 97 %)`);
    for (const k of keys) await c.stop(k).catch(() => {});
  } finally {
    watches.forEach((w) => w.close());
    await c.close();
    await rtmp?.close();
    redisProc.kill('SIGKILL');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
