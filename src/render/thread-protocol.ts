// Messages between a stream's render thread and the start job that owns it.
import type { FfmpegSupervisorOptions, FfmpegHealth } from './ffmpeg/supervisor.js';

/** Everything a thread needs to run a stream's broadcast (plain data: it crosses threads). */
export type BroadcastPlan = FfmpegSupervisorOptions;

export interface RenderThreadInit {
  streamKey: string;
  screenId: string;
  startedMs: number;
  redisUrl: string;
  preview: { fps: number; quality: number; width: number; height: number };
  /** The broadcast's FFmpeg (its settings carry size and fps); null: previews only. */
  broadcast: BroadcastPlan | null;
}

export interface BroadcastStatus {
  health: FfmpegHealth;
  restarts: number;
  lastError: string | null;
  fps: number;
  bitrateKbps?: number;
  pid?: number;
  /** Since when (ms epoch) the output has been down, while reconnecting. */
  downSince?: number | null;
}

export interface ThreadCounters {
  frames: number;
  dropped: number;
  previewFrames: number;
  previewSkipped: number;
}

export type FromThread =
  | { type: 'ready' }
  | { type: 'preview'; jpeg: ArrayBuffer; seq: number; ts: number }
  | { type: 'stats'; counters: ThreadCounters; broadcast: BroadcastStatus | null }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

export type ToThread = { type: 'stop' };
