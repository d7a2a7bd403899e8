// The start job's handle on a render thread: starts it, feeds its raw frames to the broadcast
// sink, passes its previews on, and keeps its counters.
import { Worker } from 'node:worker_threads';
import { log } from '../logger.js';
import type { FrameSink, PipelineStats } from './pipeline.js';
import type { FromThread, RenderThreadInit, ToThread } from './thread-protocol.js';

const logger = log('RENDER');

// From the build the thread is render-thread.js; from the sources (tsx) it goes through a boot file.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const THREAD_URL = new URL(FROM_SOURCE ? './render-thread.ts' : './render-thread.js', import.meta.url);
const BOOT_URL = new URL('./render-thread-boot.mjs', import.meta.url);

function spawnThread(workerData: RenderThreadInit, name: string): Worker {
  if (!FROM_SOURCE) return new Worker(THREAD_URL, { workerData, name });
  return new Worker(BOOT_URL, { workerData: { ...workerData, threadUrl: THREAD_URL.href }, name });
}

export interface ThreadedPipelineOptions extends Omit<RenderThreadInit, 'maxInFlight'> {
  sink?: FrameSink;
  onPreview: (jpeg: Buffer, seq: number, ts: number) => void;
  /** The thread failed (scene error, Redis for its data source unreachable, …). */
  onError: (message: string) => void;
}

export class ThreadedPipeline {
  private worker: Worker | null = null;
  private counters = { frames: 0, skipped: 0, notTaken: 0, previewFrames: 0, previewSkipped: 0 };
  private sinkDropped = 0;
  private stopped = false;

  constructor(private readonly o: ThreadedPipelineOptions) {}

  /** Resolves once the thread renders (its scene and data source are up). */
  start(): Promise<void> {
    const { sink, onPreview, onError, ...init } = this.o;
    const data: RenderThreadInit = { ...init, maxInFlight: 2 };
    const worker = spawnThread(data, `render ${init.streamKey}`);
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: FromThread) => {
        switch (m.type) {
          case 'ready':
            ready = true;
            resolve();
            break;
          case 'frame':
            if (sink && !this.stopped && !sink.writeFrame(Buffer.from(m.rgba))) this.sinkDropped += 1;
            this.send({ type: 'ack', n: 1 });
            break;
          case 'preview':
            if (!this.stopped) onPreview(Buffer.from(m.jpeg), m.seq, m.ts);
            break;
          case 'stats':
            this.counters = m;
            break;
          case 'error':
            if (ready) onError(m.message);
            else reject(new Error(m.message));
            break;
        }
      });
      worker.on('error', (err) => {
        logger.error(`render thread of ${init.streamKey} crashed: ${err.message}`);
        if (ready) onError(err.message);
        else reject(err);
      });
      worker.on('exit', (code) => {
        if (!this.stopped && code !== 0) onError(`render thread exited with code ${code}`);
      });
    });
  }

  private send(m: ToThread): void {
    this.worker?.postMessage(m);
  }

  /** Stop rendering; resolves when the thread has ended (bounded). */
  async stop(): Promise<void> {
    if (this.stopped || !this.worker) return;
    this.stopped = true;
    const worker = this.worker;
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    this.send({ type: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }

  stats(): PipelineStats {
    const c = this.counters;
    return {
      frames: c.frames,
      dropped: c.skipped + c.notTaken + this.sinkDropped,
      previewFrames: c.previewFrames,
      previewSkipped: c.previewSkipped,
    };
  }
}
