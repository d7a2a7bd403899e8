// Getting one frame to this node's viewers of a stream. It goes out as one room broadcast
// (`io.local.to(room).except(skipped)`): socket.io's adapter encodes the packet once for all of
// them (and pre-builds the WebSocket frame of a text-only packet), so per viewer only the
// socket writes remain. Viewers left out of a frame: those whose connection still holds more
// than `maxBacklogBytes` (or two frames) not yet sent (they skip frames rather than queue
// them), and those who already had it in their catch-up. Viewers still joining hold it.
import { backlogOf } from './backlog.js';
import type { LocalStream } from './local-streams.js';
import { frameBytes, room, type RtServer, type StreamFrame } from './protocol.js';

export interface DeliveryOptions {
  /** A viewer whose connection holds more than this, or two frames (bytes not yet sent), skips frames. */
  maxBacklogBytes: number;
  /** Frames a joining viewer may hold while its catch-up is read. */
  maxHeld: number;
}

export class Delivery {
  constructor(
    private readonly io: RtServer,
    private readonly opts: DeliveryOptions,
  ) {}

  /** Returns the viewers it went to. */
  deliver(ls: LocalStream, frame: StreamFrame): number {
    const limit = Math.max(this.opts.maxBacklogBytes, 2 * frameBytes(frame.data));
    const skip: string[] = [];
    let reached = 0;
    for (const m of ls.members.values()) {
      if (!m.joined) {
        // not in the room yet: sent after its catch-up
        if (m.held.length < this.opts.maxHeld) m.held.push(frame);
      } else if (frame.seq <= m.lastSeq && !ls.ring) {
        // already had it, in the catch-up (socket streams: our own, monotonic seq; a worker's
        // may start again from 0 after a takeover)
        skip.push(m.socket.id);
      } else if (backlogOf(m.socket).bytes() > limit) {
        m.skipped += 1;
        skip.push(m.socket.id);
      } else {
        m.lastSeq = frame.seq;
        m.sent += 1;
        reached += 1;
      }
    }
    if (reached > 0) this.io.local.to(room(ls.key)).except(skip).emit('stream:data', frame);
    return reached;
  }
}
