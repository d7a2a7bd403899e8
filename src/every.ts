// Periodic work that must not overlap itself (a slow Redis) and must not flood the log while it
// fails: one call to onFail when it starts failing, one to onRecover when it works again (the
// "once per outage" of logOnce, src/redis/log-once.ts).
import { logOnce } from './redis/log-once.js';

export function every(
  ms: number,
  fn: () => Promise<unknown>,
  opts: { onFail?: (err: unknown) => void; onRecover?: () => void; skipWhen?: () => boolean } = {},
): () => void {
  let busy = false;
  let lastError: unknown;
  const outage = logOnce({ warn: () => opts.onFail?.(lastError), recovered: () => opts.onRecover?.() });
  const timer = setInterval(() => {
    if (busy || opts.skipWhen?.()) return;
    busy = true;
    fn()
      .then(() => outage.ok())
      .catch((err) => {
        lastError = err;
        outage.fail('');
      })
      .finally(() => {
        busy = false;
      });
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
