// What a scene is: a pure drawing function of (frame info, data). Scenes that show live data
// (a poll) also say how to get it; the render loop asks `current()` once per frame.
import type { SKRSContext2D } from '@napi-rs/canvas';
import type { Redis } from 'ioredis';

export interface FrameInfo {
  width: number;
  height: number;
  /** Frame number since the stream started (broadcast frames). */
  frame: number;
  /** Wall-clock time of the frame, ms since epoch. */
  timeMs: number;
  /** Stream start, ms since epoch. */
  startedMs: number;
  streamKey: string;
  fps: number;
}

export interface SceneSourceDeps {
  redis: Redis;
  /** A subscriber connection the source may use for pub/sub. */
  subscriber: Redis;
}

export interface SceneSource<D> {
  /** The latest data, synchronously (called every frame: must be cheap). */
  current(): D;
  close(): Promise<void>;
}

export interface Scene<D = unknown> {
  id: string;
  description: string;
  draw(ctx: SKRSContext2D, info: FrameInfo, data: D): void;
  /** Live data for the scene; scenes without one get `undefined`. */
  source?: (deps: SceneSourceDeps) => Promise<SceneSource<D>>;
}
