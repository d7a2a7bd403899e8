// Periodic work that must not overlap itself (a slow Redis) and must not flood the log while it
// fails: one call to onFail when it starts failing, one to onRecover when it works again.
export function every(
  ms: number,
  fn: () => Promise<unknown>,
  opts: { onFail?: (err: unknown) => void; onRecover?: () => void; skipWhen?: () => boolean } = {},
): () => void {
  let busy = false;
  let failing = false;
  const timer = setInterval(() => {
    if (busy || opts.skipWhen?.()) return;
    busy = true;
    fn()
      .then(() => {
        if (failing) opts.onRecover?.();
        failing = false;
      })
      .catch((err) => {
        if (!failing) opts.onFail?.(err);
        failing = true;
      })
      .finally(() => {
        busy = false;
      });
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
