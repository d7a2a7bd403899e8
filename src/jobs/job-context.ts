// What a start job gets from the worker that runs it, and what it answers.
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { BroadcastFactory } from '../render/broadcast.js';
import type { RequestedStreams } from '../streams/requested.js';

/** Records stream sessions (start, stop, counters) in the database; absent without one. */
export interface SessionRecorder {
  start(s: { streamKey: string; screenId: string; taskId: string; startedAt: Date }): Promise<number | null>;
  end(
    id: number,
    s: { stopReason: string; frames: number; dropped: number; restarts: number; lastError: string | null },
  ): Promise<void>;
}

/**
 * Live data for a stream's scene, held by the worker's main thread and forwarded to the render
 * thread: called once per stream with its screen id and a `push` for each new value; returns
 * the unsubscribe. Absent: scenes get their data as before.
 */
export type SceneDataSource = (screenId: string, push: (data: unknown) => void) => () => void;

export interface StartContext {
  config: Config;
  redis: Redis;
  workerId: string;
  /** Registers the stop callback of a running stream for the fast control channel. */
  onControl(streamKey: string, stop: (reason: string) => void): () => void;
  /** Registers a running stream's callback for `sf:control:destinations` (its destination list changed). */
  onDestinations?(streamKey: string, changed: () => void): () => void;
  /**
   * The stream's start payload changed while it runs (destinations added or removed): whoever
   * keeps the durable copy of requested streams stores this one, so a takeover keeps them.
   */
  payloadChanged?(payload: import('../streams/schema.js').StartPayload): void;
  /** Resolves when the worker is shutting down. */
  shuttingDown: Promise<void>;
  broadcast?: BroadcastFactory;
  sessions?: SessionRecorder;
  sceneData?: SceneDataSource;
  /** Issue 13: a running stream's pipeline, for the worker's load shedding; returns the undo. */
  onPipeline?(s: import('./admission.js').LoadedStream): () => void;
  /** The requested streams (PostgreSQL); absent in a worker without a database. */
  requested?: RequestedStreams;
}

export interface StartResult {
  streamKey: string;
  taskId: string;
  outcome: 'stopped' | 'failed' | 'skipped' | 'handed-off';
  reason: string;
  frames?: number;
}
