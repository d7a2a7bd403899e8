// Render threads started ahead of need (issue 14): a thread's start (an isolate, the modules, the
// canvas library, the fonts) takes 300-500 ms on a busy 2-core machine, nearly all of a stream's
// `POST /stream/start` → first preview time. The worker role keeps `size` threads booted and idle
// (unref'd: they never keep the process alive); a stream takes one and hands it its init by
// message, and a replacement boots behind it. Without a warm thread a stream boots its own, as before.
import { Worker } from 'node:worker_threads';
import type { RenderThreadInit, ToThread } from './thread-protocol.js';

// From the build the thread is render-thread.js; from the sources (tsx) it goes through a boot file.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const THREAD_URL = new URL(FROM_SOURCE ? './render-thread.ts' : './render-thread.js', import.meta.url);
const BOOT_URL = new URL('./render-thread-boot.mjs', import.meta.url);

/** What a pooled thread gets as workerData: it boots, then waits for an `init` message. */
export interface PooledThreadData {
  pooled: true;
  /** Frame sizes its streams will draw (broadcast, preview): each scene draws one frame of each ahead of need. */
  sizes: Array<[number, number]>;
}

function spawn(workerData: RenderThreadInit | PooledThreadData, name: string): Worker {
  if (!FROM_SOURCE) return new Worker(THREAD_URL, { workerData, name });
  return new Worker(BOOT_URL, { workerData: { ...workerData, threadUrl: THREAD_URL.href }, name });
}

let size = 0;
let sizes: Array<[number, number]> = [];
const idle: Worker[] = [];
/** Delay before a replacement boots, so it does not compete with the stream that just started. */
const REFILL_DELAY_MS = 100;
let refillTimer: NodeJS.Timeout | null = null;

function boot(): void {
  const w = spawn({ pooled: true, sizes }, 'render (idle)');
  w.unref();
  const gone = () => {
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
  };
  // An idle thread that fails or ends is dropped; the next take boots its own thread.
  w.once('error', gone);
  w.once('exit', gone);
  (w as Worker & { poolGone?: () => void }).poolGone = gone;
  idle.push(w);
}

function refill(): void {
  if (refillTimer || idle.length >= size) return;
  refillTimer = setTimeout(() => {
    refillTimer = null;
    while (idle.length < size) boot();
  }, REFILL_DELAY_MS);
  refillTimer.unref();
}

/**
 * Keep `n` render threads booted ahead of need (the worker role; 0 turns the pool off), each with
 * every scene drawn once at `frameSizes` (the broadcast's and the preview's).
 */
export function warmRenderThreads(n: number, frameSizes: Array<[number, number]> = []): void {
  size = Math.max(0, Math.floor(n));
  sizes = frameSizes;
  while (idle.length < size) boot();
  while (idle.length > size) void idle.pop()!.terminate();
}

/** Ends the idle threads and keeps none (the pool starts again on the next warmRenderThreads). */
export function closeRenderThreadPool(): Promise<void> {
  size = 0;
  if (refillTimer) clearTimeout(refillTimer);
  refillTimer = null;
  return Promise.all(idle.splice(0).map((w) => w.terminate())).then(() => undefined);
}

/** A render thread running `init`: a warm one from the pool when there is one, else a new one. */
export function startRenderThread(init: RenderThreadInit, name: string): Worker {
  const w = idle.shift();
  if (!w) {
    refill();
    return spawn(init, name);
  }
  const gone = (w as Worker & { poolGone?: () => void }).poolGone;
  if (gone) {
    w.off('error', gone);
    w.off('exit', gone);
  }
  w.ref();
  const msg: ToThread = { type: 'init', init };
  w.postMessage(msg);
  refill();
  return w;
}
