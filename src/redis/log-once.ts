// "Say it once per outage": a failing Redis (or anything retried on a timer) must not write one
// log line per attempt, per frame or per reconnect. The first failure of an outage is logged,
// then nothing until it recovers (one line) or, optionally, the message changes or `repeatMs`
// has passed.

export interface OutageLogOptions {
  /** Writes the failure line. */
  warn: (message: string) => void;
  /** Writes the recovery line (called only after a logged failure). */
  recovered?: () => void;
  /** Log again within an outage when the message differs from the last one logged. */
  distinct?: boolean;
  /** Log again within an outage once this long has passed since the last line. */
  repeatMs?: number;
}

export interface OutageLog {
  /** A failure: logged if it starts an outage (or per `distinct` / `repeatMs`). */
  fail(message: string): void;
  /** It works (again): ends the outage; logs the recovery if one was logged. */
  ok(): void;
  /** In an outage now. */
  readonly down: boolean;
}

export function logOnce(opts: OutageLogOptions, now: () => number = Date.now): OutageLog {
  let down = false;
  let last = '';
  let lastAt = 0;
  return {
    fail(message) {
      const t = now();
      const again = (opts.distinct && message !== last) || (opts.repeatMs !== undefined && t - lastAt >= opts.repeatMs);
      if (!down || again) {
        opts.warn(message);
        last = message;
        lastAt = t;
      }
      down = true;
    },
    ok() {
      if (down) opts.recovered?.();
      down = false;
      last = '';
    },
    get down() {
      return down;
    },
  };
}
