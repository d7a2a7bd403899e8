// The supervisor's retry policy (issue 9): a destination that fails never ends a requested
// stream. FFmpeg is restarted with a backoff from 1 s doubling to 30 s, with jitter (so many
// streams that lost one server do not reconnect in lockstep); while it waits, a cheap TCP probe
// of the destination cuts the wait short when the server comes back (so a long outage does not
// leave the stream off air for up to 30 s after its return). Only errors no retry can fix end
// the stream: FFmpeg cannot run at all, or it refuses the output spec itself.
import net from 'node:net';

/** Delay before restart number `failures` (1-based): initial × 2^(n-1), capped, ±25 % jitter. */
export function backoffDelay(failures: number, initialMs = 1000, maxMs = 30_000, random = Math.random): number {
  const base = Math.min(initialMs * 2 ** Math.max(0, failures - 1), maxMs);
  return Math.round(Math.min(maxMs, base * (0.75 + random() * 0.5)));
}

// FFmpeg's own words for a destination it will never accept, whatever the server does.
const UNFIXABLE_OUTPUT = [
  /Invalid argument/i,
  /Protocol not found/i,
  /Unrecognized option|Option not found|Error splitting the argument list/i,
  /Requested output format .* is not a suitable output format|Unable to find a suitable output format/i,
];

/**
 * Why no retry can help, or null when a retry may. `spawnError` is set when FFmpeg could not
 * be started at all (ENOENT, EACCES: a bad FFMPEG_PATH). Connection refused, timeouts, DNS
 * failures and broken pipes are retried: the server may come back.
 */
export function unfixable(spawnError: string | null, stderrTail: string[], everLive: boolean): string | null {
  if (spawnError) return `FFmpeg cannot be run: ${spawnError}`;
  // A run that went live accepted its outputs: whatever ended it later is the network's doing.
  if (everLive) return null;
  const line = stderrTail.find((l) => UNFIXABLE_OUTPUT.some((re) => re.test(l)));
  return line ? `FFmpeg refuses the output: ${line}` : null;
}

/** host:port of the RTMP destinations (1935 for rtmp, 443 for rtmps), for the probe. */
export function probeTargets(outputs: string[]): Array<{ host: string; port: number }> {
  const out: Array<{ host: string; port: number }> = [];
  for (const url of outputs) {
    try {
      const u = new URL(url);
      if (u.protocol !== 'rtmp:' && u.protocol !== 'rtmps:') continue;
      out.push({ host: u.hostname, port: Number(u.port || (u.protocol === 'rtmps:' ? 443 : 1935)) });
    } catch {
      /* not a URL: nothing to probe */
    }
  }
  return out;
}

/** Whether a TCP connection to any target opens within `timeoutMs`. */
export function reachable(targets: Array<{ host: string; port: number }>, timeoutMs = 1000): Promise<boolean> {
  if (!targets.length) return Promise.resolve(false);
  return new Promise((resolve) => {
    let pending = targets.length;
    let done = false;
    for (const t of targets) {
      const sock = net.connect({ host: t.host, port: t.port });
      const finish = (ok: boolean) => {
        sock.destroy();
        if (done) return;
        if (ok) {
          done = true;
          resolve(true);
        } else if (--pending === 0) {
          done = true;
          resolve(false);
        }
      };
      sock.setTimeout(timeoutMs, () => finish(false));
      sock.once('connect', () => finish(true));
      sock.once('error', () => finish(false));
    }
  });
}

/** The last run failed to reach the server at all (so a probe that connects means it is back). */
export function connectionFailed(error: string | null): boolean {
  return !!error && /Connection refused|Connection timed out|No route to host|Network is unreachable|Connection reset|Broken pipe|End of file|Input\/output error/i.test(error);
}

/**
 * Wait `delayMs`, or less: probing the destinations every `probeMs`, the wait ends as soon as
 * one that was unreachable answers again. A server that stays reachable (it refuses the stream
 * for another reason) gets the whole backoff. `cancelled()` ends the wait early (stop()).
 */
export async function waitToRetry(
  delayMs: number,
  targets: Array<{ host: string; port: number }>,
  cancelled: () => boolean,
  opts: { probeMs?: number; wasDown?: boolean } = {},
): Promise<'elapsed' | 'reachable' | 'cancelled'> {
  const probeMs = opts.probeMs ?? 1000;
  const until = Date.now() + delayMs;
  let wasDown = opts.wasDown ?? false;
  while (Date.now() < until) {
    const step = Math.min(probeMs, until - Date.now());
    await new Promise((r) => setTimeout(r, step).unref());
    if (cancelled()) return 'cancelled';
    if (!targets.length || Date.now() >= until) continue;
    const up = await reachable(targets, Math.min(1000, probeMs));
    if (up && wasDown) return 'reachable';
    wasDown ||= !up;
  }
  return cancelled() ? 'cancelled' : 'elapsed';
}
