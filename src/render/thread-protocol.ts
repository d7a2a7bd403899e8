// Messages between a stream's render thread and the start job that owns it.
import type { FfmpegSupervisorOptions, FfmpegHealth } from './ffmpeg/supervisor.js';
import type { Destination, OutputStatus } from './ffmpeg/copy-output.js';
import type { RenderRates } from './pipeline.js';

/**
 * Everything a thread needs to run a stream's broadcast (plain data: it crosses threads): the
 * one encoder, the destinations it fans out to, and the HLS directory (null: no HLS).
 */
export type BroadcastPlan = FfmpegSupervisorOptions & { destinations: Destination[]; hlsDir: string | null };

export interface RenderThreadInit {
  streamKey: string;
  screenId: string;
  startedMs: number;
  preview: { fps: number; quality: number; width: number; height: number };
  /** The broadcast's FFmpeg (its settings carry size and fps); null: previews only. */
  broadcast: BroadcastPlan | null;
  /** A live-data scene's data at the start (then `scene-data` messages). */
  sceneData?: unknown;
}

export interface BroadcastStatus {
  health: FfmpegHealth;
  restarts: number;
  lastError: string | null;
  fps: number;
  bitrateKbps?: number;
  /** Bytes muxed so far (absent with tee). */
  bytes?: number;
  /** FFmpeg restarts by reason (stalled, killed, exited, spawn). */
  restartReasons?: Record<string, number>;
  pid?: number;
  /** Each RTMP destination's own status. */
  destinations: OutputStatus[];
  hls: OutputStatus | null;
  /** Since when (ms epoch) every destination has been down (reconnecting); null while any is live. */
  downSince?: number | null;
}

export interface ThreadCounters {
  frames: number;
  dropped: number;
  previewFrames: number;
  previewSkipped: number;
}

/** Every message names its stream by `sid`: a render thread may run several streams (thread-pool.ts). */
export type FromThread =
  | { type: 'ready'; sid: number }
  | { type: 'preview'; sid: number; jpeg: ArrayBuffer; seq: number; ts: number }
  /** `latencies`: render → FFmpeg seconds of the frames written since the last stats message. */
  | { type: 'stats'; sid: number; counters: ThreadCounters; broadcast: BroadcastStatus | null; latencies?: number[] }
  /** `ended`: the stream is no longer on the thread (it could not start); else it runs until stopped. */
  | { type: 'failed'; sid: number; message: string; ended?: boolean }
  | { type: 'stopped'; sid: number };

/** What a stream's handle sends its thread (the host adds the stream's `sid`). */
export type ToStream =
  | { type: 'stop' }
  /** The latest data of a live-data scene (the poll, for the poll scene); the thread hands it to the scene. */
  | { type: 'scene-data'; data: unknown }
  /** The broadcast's destinations are now these (by id); the others go on untouched. */
  | { type: 'destinations'; list: Destination[] }
  /** Shed load (issue 13): frames rendered per second (the broadcast repeats the last one between them), the previews' rate, the scene's optional effects. */
  | ({ type: 'rates' } & RenderRates);

export type ToThread =
  /** A new stream on this thread: it runs `init` from now on, as stream `sid`. */
  | { type: 'init'; sid: number; init: RenderThreadInit }
  | (ToStream & { sid: number });
