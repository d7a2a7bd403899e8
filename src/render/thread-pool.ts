// The worker's render threads (issue 14). By default each stream has a thread of its own; with a
// limit (RENDER_THREADS) streams share them. Sharing saves memory: a V8 isolate costs ~29 MB and
// ~0.5 s to boot, a stream on a thread already running ~8 MB and nothing (bench/thread-memory.ts).
// It costs frames: on 2 cores, a thread per stream held 6 poll streams at ≥ 29.5 fps against 4
// with a thread per core, at ~8-10 against ~10-11 CPU-ms a frame (bench/broadcast.ts), since
// streams on one thread wait for each other's frames. A new stream takes an empty thread, else
// a new one while under the limit, else the thread with the fewest streams. `warm` empty threads
// are kept booted ahead of need (unref'd: they never keep the process alive), each with every
// scene drawn once at the stream sizes, so a start never waits for a thread's boot; an empty
// thread beyond those ends.
// A thread that crashes takes its streams with it: each is told (gone), and its start job leaves
// it requested (ThreadedPipeline's onLost); the worker enqueues it again (jobs/runtime.ts).
import { Worker } from 'node:worker_threads';
import type { FromThread, RenderThreadInit, ToStream, ToThread } from './thread-protocol.js';

// From the build the thread is render-thread.js; from the sources (tsx) it goes through a boot file.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const THREAD_URL = new URL(FROM_SOURCE ? './render-thread.ts' : './render-thread.js', import.meta.url);
const BOOT_URL = new URL('./render-thread-boot.mjs', import.meta.url);

/** What a render thread gets as workerData. */
export interface RenderThreadData {
  /** Frame sizes its streams will draw (broadcast, preview): each scene draws one frame of each ahead of need. */
  sizes: Array<[number, number]>;
}

/** What a stream hears from its thread. */
export interface StreamListener {
  message(m: FromThread): void;
  /** The thread is gone (crashed or ended) with the stream still on it. */
  gone(reason: string): void;
}

/** A stream's place on a thread: post to it, and leave it once stopped. */
export interface StreamSlot {
  readonly sid: number;
  /** The thread's id (threads shared by streams have the same). */
  readonly threadId: number;
  post(m: ToStream): void;
  /** The stream is off the thread (stopped, or given up): an empty thread is kept warm or ends. */
  leave(): void;
  /** Ends the whole thread, every stream on it (a thread that does not answer a stop). */
  terminate(): void;
}

interface Host {
  worker: Worker;
  streams: Map<number, StreamListener>;
}

let warm = 0;
let limit = Infinity;
let sizes: Array<[number, number]> = [];
const hosts: Host[] = [];
let nextSid = 1;
/** Delay before an empty thread boots, so it does not compete with the stream that just started. */
const REFILL_DELAY_MS = 100;
let refillTimer: NodeJS.Timeout | null = null;

function boot(): Host {
  const workerData: RenderThreadData = { sizes };
  const worker = FROM_SOURCE ? new Worker(BOOT_URL, { workerData: { ...workerData, threadUrl: THREAD_URL.href }, name: 'render' }) : new Worker(THREAD_URL, { workerData, name: 'render' });
  worker.unref();
  const host: Host = { worker, streams: new Map() };
  worker.on('message', (m: FromThread) => host.streams.get(m.sid)?.message(m));
  const gone = (reason: string) => {
    const i = hosts.indexOf(host);
    if (i >= 0) hosts.splice(i, 1);
    const listeners = [...host.streams.values()];
    host.streams.clear();
    for (const l of listeners) l.gone(reason);
    refill();
  };
  worker.on('error', (err) => gone(err.message));
  worker.on('exit', (code) => gone(`render thread exited with code ${code}`));
  hosts.push(host);
  return host;
}

const empty = () => hosts.filter((h) => h.streams.size === 0);

function refill(): void {
  if (refillTimer) return;
  refillTimer = setTimeout(() => {
    refillTimer = null;
    // Empty threads count towards the limit too: past it, a new stream shares a busy thread.
    while (empty().length < warm && hosts.length < Math.max(limit, warm)) boot();
  }, REFILL_DELAY_MS);
  refillTimer.unref();
}

/** Ends empty threads beyond the `warm` kept. */
function trim(): void {
  for (const h of empty().slice(warm)) {
    hosts.splice(hosts.indexOf(h), 1);
    void h.worker.terminate();
  }
}

/**
 * Keep `n` empty render threads booted ahead of need (0: none), each with every scene drawn once
 * at `frameSizes` (the broadcast's and the preview's), and spread streams over at most
 * `maxThreads` threads (0: no limit, a thread per stream).
 */
export function warmRenderThreads(n: number, frameSizes: Array<[number, number]> = [], maxThreads = 0): void {
  warm = Math.max(0, Math.floor(n));
  limit = maxThreads > 0 ? Math.floor(maxThreads) : Infinity;
  sizes = frameSizes;
  while (empty().length < warm && hosts.length < Math.max(limit, warm)) boot();
  trim();
}

/** Ends the empty threads and keeps none warm (streams still running keep their threads). */
export async function closeRenderThreadPool(): Promise<void> {
  warm = 0;
  if (refillTimer) clearTimeout(refillTimer);
  refillTimer = null;
  const idle = empty();
  for (const h of idle) hosts.splice(hosts.indexOf(h), 1);
  await Promise.all(idle.map((h) => h.worker.terminate()));
}

/** The thread a new stream goes to: an empty one, else a new one under the limit, else the least busy. */
function pick(): Host {
  const idle = empty()[0];
  if (idle) return idle;
  if (hosts.length < limit) return boot();
  return hosts.reduce((a, b) => (b.streams.size < a.streams.size ? b : a));
}

/** Runs `init` on a render thread as a new stream; its messages go to `listener`. */
export function startRenderStream(init: RenderThreadInit, listener: StreamListener): StreamSlot {
  const host = pick();
  const sid = nextSid++;
  host.streams.set(sid, listener);
  host.worker.ref();
  const init_: ToThread = { type: 'init', sid, init };
  host.worker.postMessage(init_);
  refill();
  let left = false;
  return {
    sid,
    threadId: host.worker.threadId,
    post(m) {
      if (!left) host.worker.postMessage({ ...m, sid } satisfies ToThread);
    },
    leave() {
      if (left) return;
      left = true;
      host.streams.delete(sid);
      if (host.streams.size === 0) host.worker.unref();
      trim();
    },
    terminate() {
      void host.worker.terminate();
    },
  };
}

/** Ends the thread `threadId` with every stream on it, as a crash would (tests). */
export async function endRenderThread(threadId: number): Promise<void> {
  await hosts.find((h) => h.worker.threadId === threadId)?.worker.terminate();
}

/** Threads running now, and the streams on each (for tests and the bench). */
export function renderThreadLoad(): number[] {
  return hosts.map((h) => h.streams.size);
}

/** The ids of the threads that run streams now (for tests: endRenderThread). */
export function busyRenderThreads(): number[] {
  return hosts.filter((h) => h.streams.size > 0).map((h) => h.worker.threadId);
}
