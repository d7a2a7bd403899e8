// The one restart policy of every FFmpeg the service runs (the encoder and each output): how long
// to wait before the next attempt, and when a run counts as healthy. Shared so a change of
// policy applies to every destination at once.

import type { RefusalOptions } from './refusal.js';

export interface RetryOptions {
  /** First delay; it doubles with each consecutive failure. */
  initialMs?: number;
  /** Ceiling of the delay. */
  maxMs?: number;
  /** Share of the delay drawn at random (0..1), so many outputs do not retry in lockstep. */
  jitter?: number;
  /** A run that stayed live this long resets the consecutive-failure count. */
  healthyRunMs?: number;
  /** When a destination that refuses every attempt counts as failed (refusal.ts). */
  refused?: RefusalOptions;
}

// A run live for 10 s counts as healthy: an output killed again soon after a reconnect is back at
// once (with 30 s, a copy killed 28 s after one waited out a 4 s backoff in the chaos soak).
export const RETRY_DEFAULTS: Required<Omit<RetryOptions, 'refused'>> = { initialMs: 1000, maxMs: 30_000, jitter: 0.2, healthyRunMs: 10_000 };

/**
 * Delay before attempt n+1 after n consecutive failures: none after the first (a killed FFmpeg or
 * a dropped connection is back at once), then initial·2^(n-2), capped, ± jitter.
 */
export function backoffMs(failures: number, o: RetryOptions = {}, random = Math.random): number {
  if (failures <= 1) return 0;
  const { initialMs, maxMs, jitter } = { ...RETRY_DEFAULTS, ...o };
  const base = Math.min(initialMs * 2 ** (failures - 2), maxMs);
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
