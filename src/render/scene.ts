// What a scene is: a pure drawing function of (frame info, data). A scene that shows live data
// (a poll) gets that data handed in from outside the render library, whenever it changes, and
// keeps a little state per stream that turns it into what `draw` needs once per frame (the
// poll's bars easing towards their shares). The render library never fetches data itself.
import type { SKRSContext2D } from '@napi-rs/canvas';

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
  /**
   * Optional effects (issue 13's shed ladder): false skips what only decorates and costs render
   * time (the poll's drifting background slashes, the light along its bars, the confetti). Absent: on.
   */
  effects?: boolean;
}

/** One stream's state of a live-data scene. */
export interface SceneState<I, D> {
  /** The latest data from outside (plain data: it crossed a thread). */
  set(input: I): void;
  /** What to draw at `timeMs` (called every frame: must be cheap). */
  frame(timeMs: number): D;
}

export interface Scene<D = unknown, I = unknown> {
  id: string;
  description: string;
  draw(ctx: SKRSContext2D, info: FrameInfo, data: D): void;
  /** Scenes that show live data: a fresh state per stream. Scenes without one get `undefined`. */
  state?: () => SceneState<I, D>;
}
