// Slow viewers must not grow the server's memory: 500 viewers of one stream (30 KB binary
// frames, 10 fps, 30 s) of which 50 stop reading their TCP socket right after joining. The
// server's RSS should stay flat and the 450 others keep ≥ 99% of the frames. For contrast, the
// same with the per-viewer bound switched off (MAX_BACKLOG_BYTES=1 GiB): what it prevents.
// Env: VIEWERS, PAUSED, SECONDS (see realtime-fanout.ts), UNBOUNDED=0 to skip the contrast run.
import os from 'node:os';
import { run, print } from './realtime-fanout.js';
import { fmt } from './realtime/lib.js';

const VIEWERS = Number(process.env.VIEWERS ?? 500);
const PAUSED = Number(process.env.PAUSED ?? 50);

console.log(
  `realtime slow viewers: ${VIEWERS} viewers, ${PAUSED} of them not reading; ${os.cpus().length} cores shared by server, clients, streamer and Redis (loopback)`,
);
const runs: [string, Record<string, string>][] = [['bounded (256 KiB per viewer)', {}]];
if (process.env.UNBOUNDED !== '0') runs.push(['unbounded (bound off)', { MAX_BACKLOG_BYTES: String(1024 ** 3) }]);
for (const [label, env] of runs) {
  const r = await run('binary', { viewers: VIEWERS, paused: PAUSED, serverEnv: env });
  console.log(`-- ${label}`);
  print(r);
  const got = r.pausedReceived.sort((a, b) => a - b);
  console.log(
    `        paused viewers, once reading again, got ${got[0]}–${got[got.length - 1]} of ${r.sent} frames (what was queued for them; the server skipped the rest); ` +
      `server RSS growth ${fmt(r.rssMax - r.rssStart, 0)} MiB`,
  );
  console.log(`        server RSS (MiB) every 5 s: ${r.rssSeries.filter((_, i) => i % 5 === 0).map((v) => fmt(v, 0)).join(' ')}`
  );
}
process.exit(0);
