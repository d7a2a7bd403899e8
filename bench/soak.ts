// A 24/7 soak: does the service's memory stay flat while streams run for a long time with
// everything a show does? STREAMS (2) 1280×720 30 fps poll streams pushed to a local RTMP server,
// a vote every VOTE_MS (100) from a new voter, a new poll every ROTATE_SECONDS (75) that closes
// after POLL_SECONDS (45) (the countdown, "voting closed", the winner's reveal and its confetti all come
// round), and a preview viewer on each stream's SSE feed for 15 s of every minute (previews on
// and off). Every SAMPLE_SECONDS (30) it prints the PSS of the web process, the worker and the
// FFmpeg children; at the end the growth in MB an hour (least squares over the samples after
// WARMUP_MINUTES, 10: the heaps and allocators settle in the first minutes, then stay flat; and
// over the last half alone) and each stream's frames, dropped frames and restarts. SOAK_MINUTES (30).
import crypto from 'node:crypto';
import { startService } from './lib/service.js';
import { startBenchRtmp } from './lib/rtmp-server.js';
import { fmt, printMachine } from './lib/stats.js';
import { ffmpegPss, mem } from './lib/proc-mem.js';

const STREAMS = Number(process.env.STREAMS ?? 2);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const WARMUP = Number(process.env.WARMUP_MINUTES ?? 10) * 60_000;
const SAMPLE = Number(process.env.SAMPLE_SECONDS ?? 30) * 1000;
const VOTE_MS = Number(process.env.VOTE_MS ?? 100);
const ROTATE = Number(process.env.ROTATE_SECONDS ?? 75) * 1000;
const POLL_SECONDS = Number(process.env.POLL_SECONDS ?? 45);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample { atMs: number; web: number; worker: number; encoders: number; outputs: number }
const PARTS = ['web', 'worker', 'encoders', 'outputs'] as const;
const total = (s: Sample) => s.web + s.worker + s.encoders + s.outputs;

/** Least-squares slope of `y` over `x`. */
function slope(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

async function main() {
  // Settings that leave nothing to fit are refused now, not after the whole soak.
  if (!(MINUTES * 60_000 - WARMUP >= 3 * SAMPLE && SAMPLE > 0 && VOTE_MS > 0 && ROTATE > 0)) {
    throw new Error(`SOAK_MINUTES (${MINUTES}) must leave at least 3 samples of SAMPLE_SECONDS after WARMUP_MINUTES; intervals must be positive`);
  }
  printMachine();
  const rtmp = await startBenchRtmp();
  const svc = await startService({ RTMP_URL: rtmp.base, WIDTH: '1280', HEIGHT: '720', BROADCAST_FPS: '30', LOG_LEVEL: 'warn', ADMISSION: 'off', SHED_LOAD: 'false', WORKER_CONCURRENCY: String(STREAMS + 1), PUBLIC_URL: 'https://polls.example.com' });
  const api = (path: string, body?: unknown) =>
    fetch(`${svc.web.url}${path}`, body === undefined ? { headers: svc.headers } : { method: 'POST', headers: svc.headers, body: JSON.stringify(body) });
  const errors = new Map<string, number>();
  const count = (what: string) => errors.set(what, (errors.get(what) ?? 0) + 1);
  const timers: NodeJS.Timeout[] = [];
  const viewers = new Set<AbortController>();
  const keys = Array.from({ length: STREAMS }, (_, i) => `soak-${crypto.randomBytes(3).toString('hex')}-${i}`);
  const samples: Sample[] = [];
  const t0 = Date.now();
  try {
    let round = 0;
    const newPoll = async () => {
      round += 1;
      const r = await api('/api/poll/generate', { question: `Soak round ${round}: who takes the frozen bridge tonight?`, options: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'], durationSeconds: POLL_SECONDS }).catch(() => null);
      if (!r?.ok) count(`poll ${r?.status ?? 'unreachable'}`);
    };
    await newPoll();
    for (const streamKey of keys) {
      const r = await api('/api/stream', { streamKey, screenId: 'poll' });
      if (!r.ok) throw new Error(`start: ${r.status} ${await r.text()}`);
    }
    // Votes go to the options of the poll on now (the rotation's own polls between ours have 3).
    let optionKeys = ['A', 'B', 'C', 'D'];
    timers.push(setInterval(() => {
      api('/api/poll')
        .then(async (r) => { const j = (await r.json()) as { poll?: { options: Array<{ key: string }> }; options?: Array<{ key: string }> }; const o = (j.poll ?? j).options; if (o?.length) optionKeys = o.map((x) => x.key); })
        .catch(() => count('poll read unreachable'));
    }, 2000));
    let votes = 0;
    let refused = 0;
    timers.push(setInterval(() => {
      votes += 1;
      api('/api/vote', { option: optionKeys[Math.floor(Math.random() * optionKeys.length)], voterId: `soak-${votes}` })
        .then(async (r) => {
          if (r.status === 200) return void (await r.arrayBuffer());
          const body = JSON.stringify(await r.json());
          // Between a poll's close and the next one, votes are refused (what the show says on air).
          // An option of the poll before (the options are read every 2 s) is refused too.
          if ((r.status === 409 && body.includes('poll_closed')) || (r.status === 400 && body.includes('unknown option'))) refused += 1;
          else count(`vote ${r.status} ${body.slice(0, 120)}`);
        })
        .catch(() => count('vote unreachable'));
    }, VOTE_MS));
    timers.push(setInterval(newPoll, ROTATE));
    const watch = () => {
      for (const streamKey of keys) {
        const ac = new AbortController();
        viewers.add(ac);
        let frames = 0;
        fetch(`${svc.web.url}/stream/feed?streamKey=${streamKey}`, { signal: ac.signal })
          .then(async (r) => { for await (const chunk of r.body!) frames += (Buffer.from(chunk).toString('latin1').match(/^data: (?!stream_stopped)/gm) ?? []).length; })
          .catch((err) => { if (!ac.signal.aborted) count(`feed ${err.message}`); });
        setTimeout(() => {
          if (frames === 0) count('feed: no frame in 15 s');
          ac.abort();
          viewers.delete(ac);
        }, 15_000);
      }
    };
    watch();
    timers.push(setInterval(watch, 60_000));

    console.log(`soak: ${STREAMS} poll streams, ${MINUTES} min; PSS in MB`);
    console.log('   min    web  worker  encoders  outputs   total');
    while (Date.now() - t0 < MINUTES * 60_000) {
      await sleep(SAMPLE);
      const w = mem(svc.web.child.pid!);
      const k = mem(svc.worker.child.pid!);
      const f = ffmpegPss(svc.worker.child.pid!);
      const s = { atMs: Date.now() - t0, web: w.pss, worker: k.pss, encoders: f.encoders, outputs: f.outputs };
      samples.push(s);
      console.log(`${fmt(s.atMs / 60_000, 1).padStart(6)} ${fmt(s.web, 0).padStart(6)} ${fmt(s.worker, 0).padStart(7)} ${fmt(s.encoders, 0).padStart(9)} ${fmt(s.outputs, 0).padStart(8)} ${fmt(total(s), 0).padStart(7)}`);
    }
    timers.forEach(clearInterval);
    const statuses = await Promise.all(keys.map(async (k) => (await api(`/stream/status?streamKey=${k}`)).json() as Promise<{ health: string; frames: number; dropped: number; restarts: number }>));
    const after = samples.filter((s) => s.atMs >= WARMUP);
    const first = after[0];
    const last = after.at(-1)!;
    const growth = (of: Sample[], f: (s: Sample) => number) => slope(of.map((s) => s.atMs / 3_600_000), of.map(f));
    const lastHalf = samples.filter((s) => s.atMs >= (MINUTES * 60_000) / 2);
    console.log(`growth in MB an hour (least squares): after the first ${fmt(WARMUP / 60_000, 0)} min (${after.length} samples), and over the last half alone (${lastHalf.length}):`);
    for (const p of PARTS) console.log(`  ${p.padEnd(9)} ${fmt(growth(after, (s) => s[p]), 1).padStart(7)} ${fmt(growth(lastHalf, (s) => s[p]), 1).padStart(7)}   (${fmt(first[p], 0)} → ${fmt(last[p], 0)} MB)`);
    statuses.forEach((st, i) => console.log(`  stream ${i + 1}: ${st.health}, ${st.frames} frames, ${st.dropped} dropped, ${st.restarts} restarts`));
    console.log(`errors: ${errors.size ? [...errors].map(([w, n]) => `${w} ×${n}`).join(', ') : 'none'}; votes sent ${votes} (${refused} refused: no poll open, or an option of the poll before), polls ${round}`);
    console.log(`soak: ${STREAMS} streams over ${MINUTES} min: total PSS ${fmt(total(first), 0)} → ${fmt(total(last), 0)} MB, growth ${fmt(growth(after, total), 1)} MB an hour after ${fmt(WARMUP / 60_000, 0)} min, ${fmt(growth(lastHalf, total), 1)} over the last half`);
  } finally {
    timers.forEach(clearInterval);
    viewers.forEach((ac) => ac.abort());
    await svc.close();
    await rtmp.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
