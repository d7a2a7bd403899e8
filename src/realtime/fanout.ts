// How a socket stream's frames reach viewers on other web nodes. The service uses the frame bus:
// one Redis publish per frame (with the catch-up push, same bytes), and each node with viewers
// delivers to its own room with per-viewer backpressure. Another strategy (the benchmarks compare
// socket.io's Redis adapter, bench/realtime/adapter-fanout.ts) plugs in here.
import type { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import { keys } from '../keys.js';
import type { RtServer, StreamFrame } from './protocol.js';

export interface SocketFanout {
  readonly name: string;
  /** A frame of a stream streamed from this node; `local` delivers it to this node's viewers. */
  emit(io: RtServer, frame: StreamFrame, local: () => void): void;
  /** Channel the frame is published on for other nodes (they subscribe to it); null: none. */
  channel(streamKey: string): string | null;
  /**
   * A socket.io adapter this strategy needs (the benchmark's Redis adapter), given the process's
   * command client and the Redis URL for the connections it must own (a subscriber of its own).
   * The service's broadcasts are all node-local, so the bus needs none.
   */
  adapter?(redis: Redis, url: string): { adapter: ServerOptions['adapter']; close(): void };
}

export const busFanout: SocketFanout = {
  name: 'bus',
  emit: (_io, _frame, local) => local(),
  channel: (streamKey) => keys.rtFrames(streamKey),
};
