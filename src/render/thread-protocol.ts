// Messages between a stream's render thread and the start job that owns it.

export interface RenderThreadInit {
  streamKey: string;
  screenId: string;
  startedMs: number;
  redisUrl: string;
  preview: { fps: number; quality: number; width: number; height: number };
  broadcast: { fps: number; width: number; height: number } | null;
  /** Raw frames the thread may have handed over and not yet seen acknowledged. */
  maxInFlight: number;
}

export type FromThread =
  | { type: 'ready' }
  | { type: 'frame'; rgba: ArrayBuffer }
  | { type: 'preview'; jpeg: ArrayBuffer; seq: number; ts: number }
  | { type: 'stats'; frames: number; skipped: number; notTaken: number; previewFrames: number; previewSkipped: number }
  | { type: 'error'; message: string };

export type ToThread = { type: 'ack'; n: number } | { type: 'stop' };
