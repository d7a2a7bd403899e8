// The encoder supervisor's public types: its options, health, events and stats (supervisor.ts).
import type { EncodeSettings } from './args.js';
import type { RetryOptions } from './retry.js';

export type FfmpegHealth = 'starting' | 'live' | 'reconnecting' | 'failed' | 'stopped';

export interface HealthEvent {
  health: FfmpegHealth;
  restarts: number;
  lastError: string | null;
}

export interface FfmpegSupervisorEvents {
  /** Every transition, including another failed attempt while already 'reconnecting'. */
  health: [HealthEvent];
  /** maxFailures consecutive failures: the supervisor has stopped trying. */
  failed: [HealthEvent];
  /** MPEG-TS bytes from the encoder, in order; a restart begins a new stream. */
  data: [Buffer];
  /** A new encoder run starts (its output starts afresh: consumers reset their cache). */
  run: [];
}

export interface FfmpegSupervisorOptions {
  ffmpegPath: string;
  settings: EncodeSettings;
  streamKey: string;
  maxFailures: number;
  stallSeconds: number;
  /** The restart policy (defaults: retry.ts). */
  retry?: RetryOptions;
}

export interface FfmpegStats {
  framesWritten: number;
  framesDropped: number;
  restarts: number;
  lastError: string | null;
  health: FfmpegHealth;
  /** Encoded frames per second over the last few seconds of progress. */
  fps: number;
  /** Muxed bitrate (video + audio + MPEG-TS overhead) over the last few seconds. */
  bitrateKbps?: number;
  /** Bytes muxed over every run so far (FFmpeg's total_size; absent with tee). */
  bytes?: number;
  /** Restarts by the reason the previous run ended: stalled, killed (a signal), exited, spawn. */
  restartReasons: Record<string, number>;
  pid: number | undefined;
}

/**
 * A step between the render loop and the encoder's stdin (yuv.ts's I420Converter): each frame
 * taken is converted just before it is written, and its output handed back once the write has
 * completed, so the step can reuse its buffers. Frames the supervisor drops are never converted.
 */
export interface FrameStage {
  /** Bytes of a frame handed to writeFrame. */
  readonly srcBytes: number;
  /** Bytes of the converted frame: the encoder's input frame size. */
  readonly outBytes: number;
  convert(src: Buffer): Buffer;
  written(out: Buffer): void;
}
