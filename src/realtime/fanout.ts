// How a socket stream's frames reach viewers on other web nodes. The service uses the frame bus:
// one Redis publish per frame (with the catch-up push, same bytes), and each node with viewers
// delivers to its own room with per-viewer backpressure. Another strategy (the benchmarks compare
// socket.io's Redis adapter, bench/realtime/adapter-fanout.ts) plugs in here.
import { keys } from '../keys.js';
import type { RtServer, StreamFrame } from './protocol.js';

export interface SocketFanout {
  readonly name: string;
  /** A frame of a stream streamed from this node; `local` delivers it to this node's viewers. */
  emit(io: RtServer, frame: StreamFrame, local: () => void): void;
  /** Channel the frame is published on for other nodes (they subscribe to it); null: none. */
  channel(streamKey: string): string | null;
}

export const busFanout: SocketFanout = {
  name: 'bus',
  emit: (_io, _frame, local) => local(),
  channel: (streamKey) => keys.rtFrames(streamKey),
};
