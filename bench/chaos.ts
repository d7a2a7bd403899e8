// Chaos soak (issue 9), bounded to 10 minutes (BENCH_SECONDS, default 120): 4 streams on 2
// workers while a script, at random moments, kills an FFmpeg (SIGKILL), a worker (SIGKILL, then
// started again), the RTMP server (down a few seconds) and Redis (SIGKILL, restarted empty).
// Each stream's RTMP output is read back; figures: the share of seconds each stream was on air,
// and the streams lost (not on air again within 60 s of the end of the chaos). Faults come every
// CHAOS_MIN_GAP..CHAOS_MAX_GAP seconds (default 10..25), of the kinds in CHAOS_FAULTS (default all); the RTMP server stays down
// RTMP_DOWN_MIN..RTMP_DOWN_MAX seconds (default 3..10).
// On air is measured twice: by a reader per stream (an FFmpeg player, as a viewer), and at the
// server (the publisher's bytes arriving, sampled every 100 ms). The reader can flatter: when it
// reconnects during a gap the server replays the last publisher's cached GOP. Both are given for
// the whole run and for the time the RTMP server was up (no stream can be on air while it is down).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
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

/** Share of whole seconds in [from, to) with at least one arrival, leaving out the seconds in `skip`. */
function onAirShare(arrivals: number[], from: number, to: number, skip: Set<number> = new Set()): number {
  const secs = Math.floor((to - from) / 1000);
  const hit = new Set(arrivals.filter((a) => a >= from && a < from + secs * 1000).map((a) => Math.floor((a - from) / 1000)));
  let [n, d] = [0, 0];
  for (let i = 0; i < secs; i++) {
    if (skip.has(i)) continue;
    d += 1;
    if (hit.has(i)) n += 1;
  }
  return d ? n / d : 0;
}

/** Publishers' bytes arriving at the embedded server (node-media-server's sessions), per stream path. */
function tapPublishers(paths: string[]): { arrivals: Map<string, number[]>; stop(): void } {
  const sessions = createRequire(import.meta.url)('node-media-server/src/core/context.js').sessions as Map<string, { isPublisher: boolean; streamPath: string; inBytes: number }>;
  const arrivals = new Map(paths.map((p) => [p, [] as number[]]));
  const seen = new Map<unknown, number>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const s of sessions.values()) {
      if (!s.isPublisher || !arrivals.has(s.streamPath)) continue;
      if (s.inBytes > (seen.get(s) ?? 0)) arrivals.get(s.streamPath)!.push(now);
      seen.set(s, s.inBytes);
    }
  }, 100);
  return { arrivals, stop: () => clearInterval(timer) };
}

/** The FFmpeg processes (encoders and copy outputs) of a worker. */
function ffmpegsOf(pid: number | undefined): number[] {
  if (!pid) return [];
  try {
    return execFileSync('pgrep', ['-P', String(pid), 'ffmpeg'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function main() {
  printMachine();
  const [redisPort, rtmpPort] = [await freePort(), await freePort()];
  let redisProc = await startRedis(redisPort);
  let rtmp: RtmpServerHandle | null = await startRtmpServer({ port: rtmpPort, host: '127.0.0.1' });
  const base = `rtmp://127.0.0.1:${rtmpPort}/live`;
  const env = clusterEnv({ RTMP_URL: base, REDIS_URL: `redis://127.0.0.1:${redisPort}`, ...(process.env.CHAOS_LOG_DIR ? { LOG_LEVEL: 'info' } : {}) });
  const c = await startCluster(env, 2);
  const procs = [c.web, ...c.workers];
  const keys = Array.from({ length: STREAMS }, (_, i) => `bench-chaos-${i}`);
  const watches = keys.map((k) => watchRtmp(`${base}/${k}`));
  const tap = tapPublishers(keys.map((k) => `/live/${k}`));
  const serverDown: Array<[number, number]> = [];
  const events: string[] = [];
  const faults: Array<{ at: number; name: string }> = [];
  try {
    for (const k of keys) await c.post('/api/stream', { streamKey: k, screenId: 'testcard', fps: 5 });
    const startBy = Date.now() + 90_000;
    while (!watches.every((w) => w.onAir())) {
      if (Date.now() > startBy) throw new Error(`not every stream went on air within 90 s: ${keys.filter((_, i) => !watches[i].onAir()).join(', ')}`);
      await sleep(200);
    }
    const t0 = Date.now();
    const [minGap, maxGap] = [Number(process.env.CHAOS_MIN_GAP ?? 10), Number(process.env.CHAOS_MAX_GAP ?? 25)].map((v) => v * 1000);
    const end = t0 + SECONDS * 1000;
    const actions: Record<string, () => Promise<void>> = {
      async ffmpeg() {
        // One FFmpeg of the workers (an encoder or a destination's copy), not the readers.
        const pids = c.workers.flatMap((w) => ffmpegsOf(w.child.pid));
        if (!pids.length) throw new Error('no FFmpeg to kill');
        const pid = pick(pids);
        const encoder = execFileSync('cat', [`/proc/${pid}/cmdline`], { encoding: 'utf8' }).includes('libx264');
        process.kill(pid, 'SIGKILL');
        events.push(`  (killed the ${encoder ? 'encoder' : 'copy output'} pid ${pid})`);
      },
      async worker() {
        const i = Math.floor(Math.random() * c.workers.length);
        await c.workers[i].kill('SIGKILL');
        await sleep(3000);
        c.workers[i] = await spawnWorker(env);
        procs.push(c.workers[i]);
      },
      async rtmp() {
        const down = Date.now();
        await rtmp?.close();
        rtmp = null;
        await sleep(between(Number(process.env.RTMP_DOWN_MIN ?? 3) * 1000, Number(process.env.RTMP_DOWN_MAX ?? 10) * 1000));
        rtmp = await startRtmpServer({ port: rtmpPort, host: '127.0.0.1' });
        serverDown.push([down, Date.now()]);
      },
      async redis() {
        redisProc.kill('SIGKILL');
        await sleep(1000);
        redisProc = await startRedis(redisPort);
      },
    };
    // CHAOS_FAULTS=worker,rtmp limits the kinds (default: all four).
    const kinds = (process.env.CHAOS_FAULTS ?? Object.keys(actions).join(',')).split(',').filter((k) => k in actions);
    while (Date.now() < end - 20_000) {
      await sleep(between(minGap, maxGap));
      const name = pick(kinds);
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
    // The seconds the RTMP server was down (wholly or partly): no stream can be on air then.
    const downSecs = new Set<number>();
    for (const [a, b] of serverDown) for (let sec = Math.floor((a - t0) / 1000); sec <= Math.floor((b - t0) / 1000); sec++) downSecs.add(sec);
    console.log(`  RTMP server down ${downSecs.size} of ${SECONDS} s`);
    const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
    const rows = keys.map((k, i) => {
      const at = tap.arrivals.get(`/live/${k}`)!;
      const r = { reader: onAirShare(watches[i].arrivals, t0, end), readerUp: onAirShare(watches[i].arrivals, t0, end, downSecs), server: onAirShare(at, t0, end), serverUp: onAirShare(at, t0, end, downSecs) };
      console.log(`  ${k}: on air (server) ${pct(r.server)}, ${pct(r.serverUp)} while the server was up; (reader) ${pct(r.reader)}, ${pct(r.readerUp)}; longest gap (reader) ${(watches[i].longestGap(t0, end) / 1000).toFixed(1)} s`);
      return r;
    });
    const low = (f: (r: (typeof rows)[number]) => number) => pct(Math.min(...rows.map(f)));
    console.log(`streams lost: ${lost.length}${lost.length ? ` (${lost.join(', ')})` : ''} (goal 0); lowest on-air share: server ${low((r) => r.server)} (${low((r) => r.serverUp)} while it was up), reader ${low((r) => r.reader)} (${low((r) => r.readerUp)}) (goal ≥ 97 %)`);
    for (const k of keys) await c.stop(k).catch(() => {});
  } finally {
    watches.forEach((w) => w.close());
    tap.stop();
    await c.close();
    // CHAOS_LOG_DIR: every process's log (info) there, for a look at where a fault's time went.
    if (process.env.CHAOS_LOG_DIR) procs.forEach((p, i) => writeFileSync(`${process.env.CHAOS_LOG_DIR}/chaos-${i === 0 ? 'web' : `worker${i}`}.log`, p.output()));
    await rtmp?.close();
    redisProc.kill('SIGKILL');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
