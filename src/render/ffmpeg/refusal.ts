// Which ends of a destination's FFmpeg no retry can fix (issue 9: `failed` says why), and which
// are an outage to retry for as long as the stream is requested.
//   - invalid: FFmpeg rejects the URL itself before any network I/O (a port out of range, a
//     protocol it does not have): failed at the first run.
//   - refused: the host does not exist (the resolver says so), or the server accepts the
//     connection and then drops every publish within seconds (a wrong key, publishing denied):
//     failed once it has gone on for REFUSED_LIMIT runs in a row and REFUSED_FOR_MS.
//   - outage: anything else (connection refused or timed out, a network down, a dropped
//     connection after a real run, a DNS server that does not answer): retried for ever.

export type EndKind = 'invalid' | 'refused' | 'outage';

/** A run that ends sooner than this after its start, without an outage's error, is a refusal. */
export const REFUSED_RUN_MS = 5000;
export const REFUSED_LIMIT = 6;
export const REFUSED_FOR_MS = 60_000;

const INVALID = /Port missing in uri|Protocol not found|rtmps?:\/\/\S+.*Invalid argument\s*$/i;
const NO_SUCH_HOST = /Name or service not known|No address associated with hostname|nodename nor servname provided/i;
const OUTAGE = /Connection refused|timed out|Network is unreachable|No route to host|Temporary failure in name resolution|Host is unreachable|already publishing|already has a publisher/i;

/** What ended a run, from its raw stderr lines and how long it ran. */
export function endKind(stderr: readonly string[], ranMs: number): EndKind {
  if (stderr.some((l) => INVALID.test(l))) return 'invalid';
  if (stderr.some((l) => NO_SUCH_HOST.test(l))) return 'refused';
  if (stderr.some((l) => OUTAGE.test(l))) return 'outage';
  return ranMs < REFUSED_RUN_MS ? 'refused' : 'outage';
}

export interface RefusalOptions {
  /** Refused runs in a row before giving up (REFUSED_LIMIT). */
  limit?: number;
  /** …and for at least this long since the first of them (REFUSED_FOR_MS). */
  forMs?: number;
}

/** Counts refusals in a row; `failed()` says when they add up to a destination no retry can fix. */
export class Refusals {
  private n = 0;
  private firstAt = 0;
  constructor(private readonly o: RefusalOptions = {}) {}

  /** Records a run's end; a reason to give up, or null to retry. */
  record(kind: EndKind, now = Date.now()): string | null {
    if (kind === 'invalid') return 'invalid destination URL (FFmpeg rejects it)';
    if (kind === 'outage') {
      this.n = 0;
      return null;
    }
    if (this.n++ === 0) this.firstAt = now;
    const [limit, forMs] = [this.o.limit ?? REFUSED_LIMIT, this.o.forMs ?? REFUSED_FOR_MS];
    if (this.n < limit || now - this.firstAt < forMs) return null;
    return `the destination refused every attempt (${this.n} in a row over ${Math.round((now - this.firstAt) / 1000)} s: unknown host, or publishing denied, e.g. a wrong stream key)`;
  }
}
