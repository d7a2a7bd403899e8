// Issue 13: overload. Asks one worker for twice the streams its measured headroom says it holds
// (1280×720 30 fps), then reports: how many were admitted and how many wait (and why), the worst
// delivered frame rate of the admitted ones at the RTMP server; the same under a `stress-ng --cpu
// N` squeeze (the spread between streams, the shed level reached, the time to restore once the
// squeeze ends); and how long a waiting stream takes to start on a newly joined worker.
// Env: REDIS_URL/DATABASE_URL, SQUEEZE_SECONDS (45), WINDOW_SECONDS (15), STREAMS (default 2 × headroom);
// BENCH_ADMISSION=off with STREAMS=n runs n streams whatever the measurement says (the squeeze
// part alone on a machine that other work keeps busy), BENCH_SHED=false without shedding.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { startService } from './lib/service.js';
import { countFrames, type FrameCounter } from './lib/rtmp-reader.js';
import { fmt, printMachine } from './lib/stats.js';
import { startBenchRtmp } from './lib/rtmp-server.js';
import { spawnWorker } from '../test/helpers/proc.js';
import { ratesAt } from '../src/jobs/shed-ladder.js';

const SQUEEZE = Number(process.env.SQUEEZE_SECONDS ?? 45);
const WINDOW = Number(process.env.WINDOW_SECONDS ?? 15);
const PARTS = (process.env.PARTS ?? 'squeeze,join').split(',');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Svc = Awaited<ReturnType<typeof startService>>;
interface Cap { id: string; streams: number; headroom?: number; cpuAvailable?: number | null; costPerStream?: number; shedLevel?: number; othersCores?: number | null; othersPerStream?: number | null }

async function capacity(svc: Svc): Promise<Cap[]> {
  const h = await (await fetch(`${svc.web.url}/api/health`)).json();
  return h.workers?.capacity ?? [];
}

async function state(svc: Svc, key: string) {
  return (await fetch(`${svc.web.url}/stream/status?streamKey=${key}`)).json() as Promise<{ health: string; last_error?: string; worker_id?: string; dropped: number }>;
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | null | undefined | false>, step = 500): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(step);
  }
}

/** Delivered fps at the RTMP server of each stream over `seconds`. */
async function fpsOver(readers: Map<string, FrameCounter>, seconds: number): Promise<Map<string, number>> {
  const f0 = new Map([...readers].map(([k, r]) => [k, r.frames()]));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const dt = (performance.now() - t0) / 1000;
  return new Map([...readers].map(([k, r]) => [k, (r.frames() - f0.get(k)!) / dt]));
}

const summary = (m: Map<string, number>) => {
  const v = [...m.values()];
  return `worst ${fmt(Math.min(...v), 2)} fps, best ${fmt(Math.max(...v), 2)}, spread ${fmt(Math.max(...v) - Math.min(...v), 2)} fps (${v.map((x) => fmt(x, 1)).join(' / ')})`;
};

async function squeeze(svc: Svc, live: string[], readers: Map<string, FrameCounter>): Promise<void> {
  const d0 = await Promise.all(live.map((k) => state(svc, k)));
  const stress = spawn('stress-ng', ['--cpu', String(os.availableParallelism()), '--timeout', `${SQUEEZE}s`, '--quiet'], { stdio: 'ignore' });
  const squeezeStart = Date.now();
  let maxLevel = 0;
  const watchLevel = setInterval(() => void capacity(svc).then((c) => (maxLevel = Math.max(maxLevel, c[0]?.shedLevel ?? 0))).catch(() => {}), 1000);
  await sleep(Math.max(5, SQUEEZE - WINDOW - 5) * 1000);
  const squeezed = await fpsOver(readers, WINDOW);
  const level = (await capacity(svc))[0]?.shedLevel ?? 0;
  const d1 = await Promise.all(live.map((k) => state(svc, k)));
  const rates = ratesAt(level, { broadcastFps: 30, previewFps: 5 });
  console.log(`under stress-ng --cpu ${os.availableParallelism()} (${SQUEEZE} s): ${summary(squeezed)} at the RTMP server (goal spread ≤ 1); shed level ${level} now, ${maxLevel} at most` +
    ` (rendering ${rates.renderFps} of 30 fps, the rest repeated); frames dropped in the squeeze ${d1.map((s, i) => s.dropped - d0[i].dropped).join(' / ')}`);
  await new Promise((r) => (stress.exitCode !== null ? r(null) : stress.once('exit', r)));
  const squeezeEnd = Date.now();
  const restored = await until('shed level 0 again', 120_000, async () => ((await capacity(svc))[0]?.shedLevel === 0 ? Date.now() : null), 1000).catch(() => null);
  clearInterval(watchLevel);
  console.log(`squeeze ended after ${fmt((squeezeEnd - squeezeStart) / 1000, 0)} s: ${restored ? `full rate restored ${fmt((restored - squeezeEnd) / 1000, 1)} s later` : 'not restored within 120 s'}`);
  // The worker's own account of each step (one line per step).
  console.log(svc.worker.output().split('\n').filter((l) => /load shed level/.test(l)).map((l) => `  ${l.slice(11, 23)} ${l.replace(/^.*load shed/, 'load shed')}`).join('\n'));
  if (restored) console.log(`after the squeeze over ${WINDOW} s: ${summary(await fpsOver(readers, WINDOW))}`);
}

async function main() {
  printMachine();
  const rtmp = await startBenchRtmp();
  const svc = await startService({
    RTMP_URL: rtmp.base, WIDTH: '1280', HEIGHT: '720', BROADCAST_FPS: '30', WORKER_CONCURRENCY: '8',
    ADMISSION: process.env.BENCH_ADMISSION ?? 'measured', SHED_LOAD: process.env.BENCH_SHED ?? 'true', RECONCILE_SECONDS: '2', LOG_LEVEL: 'info',
  });
  const readers = new Map<string, FrameCounter>();
  let worker2: Awaited<ReturnType<typeof spawnWorker>> | null = null;
  let startedKeys: string[] = [];
  try {
    const idle = await until('a measured heartbeat', 20_000, async () => (await capacity(svc)).find((c) => (c.cpuAvailable !== null && c.cpuAvailable !== undefined) || (process.env.BENCH_ADMISSION === 'off' && process.env.BENCH_SHED === 'false')));
    const n = Number(process.env.STREAMS ?? Math.max(2, 2 * (idle.headroom ?? 1)));
    console.log(`overload: RTMP server ${rtmp.kind}; worker ${idle.id}: headroom ${idle.headroom} streams at idle (${idle.cpuAvailable} cores available, others take ${idle.othersCores}, default ${idle.costPerStream} cores/stream); asking for ${n}`);
    const run = Math.random().toString(36).slice(2, 6);
    const keys = (startedKeys = Array.from({ length: n }, (_, i) => `bench-ovl-${run}-${i}`));
    await Promise.all(keys.map(async (streamKey) => {
      const r = await fetch(`${svc.web.url}/api/stream`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ streamKey, screenId: 'poll', fps: 5 }) });
      if (!r.ok) throw new Error(`start ${streamKey}: ${r.status} ${await r.text()}`);
    }));
    // Settle: the admitted set stops changing (the learned cost may admit one more) for 12 s.
    let live: string[] = [];
    let stableSince = Date.now();
    const t0 = Date.now();
    while (Date.now() - stableSince < 12_000 && Date.now() - t0 < 120_000) {
      const states = await Promise.all(keys.map((k) => state(svc, k)));
      const now = keys.filter((_, i) => states[i].health === 'live');
      // Streams still starting (a busy machine takes a while) keep the set unsettled.
      if (now.join() !== live.join() || states.some((st) => st.health === 'starting' || st.health === 'queued')) stableSince = Date.now();
      live = now;
      await sleep(1000);
    }
    const waiting = await Promise.all(keys.filter((k) => !live.includes(k)).map((k) => state(svc, k)));
    const cap = (await capacity(svc))[0];
    console.log(`admitted ${live.length} of ${n}; waiting ${waiting.length} (${[...new Set(waiting.map((w) => `${w.health}: ${w.last_error}`))].join('; ')}); worker: ${cap.costPerStream} cores/stream measured (+${cap.othersPerStream ?? '?'} in other processes), others ${cap.othersCores}, ${cap.cpuAvailable} cores available, headroom ${cap.headroom}`);
    for (const k of live) readers.set(k, countFrames(`${rtmp.base}/${k}`));
    await sleep(5000);
    console.log(`admitted streams at the RTMP server over ${WINDOW} s: ${summary(await fpsOver(readers, WINDOW))} (goal worst ≥ 29.5)`);

    // Squeeze: stress-ng takes every core; the worker sheds evenly.
    if (PARTS.includes('squeeze')) await squeeze(svc, live, readers);
    if (!PARTS.includes('join')) return;

    // A new worker joins: the first waiting stream starts there.
    const waitingKeys = keys.filter((k) => !live.includes(k));
    if (waitingKeys.length) {
      const t = Date.now();
      worker2 = await spawnWorker(svc.env, { built: !process.env.BENCH_TSX });
      const ready = Date.now();
      const w2 = worker2.workerId;
      let claimed = 0;
      // A waiting stream, or (rebalancing) a stream the squeezed worker 1 handed over: whichever comes first.
      const started = await until('a waiting or handed-over stream live on the new worker', 120_000, async () => {
        for (const k of [...waitingKeys, ...live]) {
          const st = await state(svc, k);
          if (st.worker_id === w2 && !claimed) claimed = Date.now();
          if (st.worker_id === w2 && st.health === 'live') return k;
        }
        return null;
      }, 200);
      const done = Date.now();
      const kind = waitingKeys.includes(started) ? 'a waiting stream' : 'a stream worker 1 handed over (rebalancing)';
      console.log(`new worker: ready ${fmt((ready - t) / 1000, 1)} s after its spawn; it claimed ${kind} ${fmt((claimed - ready) / 1000, 1)} s after it was ready, live (FFmpeg publishing) ${fmt((done - ready) / 1000, 1)} s after (${fmt((done - t) / 1000, 1)} s after the spawn)`);
      const nowLive = (await Promise.all(keys.map(async (k) => ((await state(svc, k)).worker_id === w2 ? k : null)))).filter(Boolean).length;
      console.log(`streams live on the new worker after that: ${nowLive} (${started} first)`);
      if (done - ready > 20_000) {
        const lines = (p: { output(): string }) => p.output().split('\n').filter((l) => /no capacity|enqueued|starting stream|marked active|ready/.test(l));
        console.log(['worker 2:', ...lines(worker2), 'worker 1:', ...lines(svc.worker).slice(-15), 'web:', ...lines(svc.web).slice(-15)].join('\n'));
      }
    }
  } finally {
    readers.forEach((r) => r.close());
    // Stopped through the API: a SIGTERMed worker would hand them over and leave them requested.
    await Promise.all(startedKeys.map((k) => fetch(`${svc.web.url}/api/stream?streamKey=${k}`, { method: 'DELETE', headers: svc.headers }).catch(() => null)));
    await worker2?.kill('SIGTERM');
    await svc.close();
    await rtmp.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
