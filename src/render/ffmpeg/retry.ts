// The one restart policy of every FFmpeg the service runs (the encoder and each output): how long
// to wait before the next attempt, and when a run counts as healthy. Shared so a change of
// policy applies to every destination at once.

export interface RetryOptions {
  /** First delay; it doubles with each consecutive failure. */
  initialMs?: number;
  /** Ceiling of the delay. */
  maxMs?: number;
  /** Share of the delay drawn at random (0..1), so many outputs do not retry in lockstep. */
  jitter?: number;
  /** A run that stayed live this long resets the consecutive-failure count. */
  healthyRunMs?: number;
}

export const RETRY_DEFAULTS: Required<RetryOptions> = { initialMs: 1000, maxMs: 30_000, jitter: 0.2, healthyRunMs: 30_000 };

/** Delay before attempt n+1 after n consecutive failures (n ≥ 1): initial·2^(n-1), capped, ± jitter. */
export function backoffMs(failures: number, o: RetryOptions = {}, random = Math.random): number {
  const { initialMs, maxMs, jitter } = { ...RETRY_DEFAULTS, ...o };
  const base = Math.min(initialMs * 2 ** Math.max(0, failures - 1), maxMs);
  return Math.max(0, Math.round(base * (1 - jitter / 2 + jitter * random())));
}

/** Counts consecutive failures; a run that was live for healthyRunMs starts the count afresh. */
export class FailureCount {
  private n = 0;
  constructor(private readonly o: RetryOptions = {}) {}

  /** Records a run's end; returns the consecutive failures including this one. */
  failed(liveForMs: number | null): number {
    const healthy = liveForMs !== null && liveForMs >= (this.o.healthyRunMs ?? RETRY_DEFAULTS.healthyRunMs);
    this.n = healthy ? 1 : this.n + 1;
    return this.n;
  }

  get value(): number {
    return this.n;
  }

  delayMs(): number {
    return backoffMs(this.n, this.o);
  }
}
