// Bytes a viewer's connection still holds in this process (not yet handed to the kernel), read
// from engine.io's public socket events, not its private write buffer: `packetCreate` (a packet
// queued), `flush` (the queue handed to the transport) and the transport's `writable` flag
// (false until a WebSocket has handed the last flush to the kernel). A viewer whose backlog is over
// the limit skips frames instead of piling them up (bounded memory per viewer).
import type { RtSocket } from './protocol.js';

export interface Backlog {
  /** Queued packets plus, while the transport is still writing, the last flush. */
  bytes(): number;
}

interface Packet {
  data?: unknown;
}

const size = (d: unknown): number =>
  typeof d === 'string' ? d.length : d && typeof (d as Buffer).byteLength === 'number' ? (d as Buffer).byteLength : 0;

class ConnBacklog implements Backlog {
  private queued = 0;
  private inFlight = 0;

  constructor(private readonly conn: RtSocket['conn']) {
    conn.on('packetCreate', (p: Packet) => (this.queued += size(p.data)));
    conn.on('flush', () => {
      // flush() runs only when the transport is writable: the previous flush is out.
      this.inFlight = this.queued;
      this.queued = 0;
    });
  }

  bytes(): number {
    // HTTP long-polling: a flush is a response already written; only the queue waits for the next poll.
    const writing = !this.conn.transport.writable && this.conn.transport.name === 'websocket';
    return this.queued + (writing ? this.inFlight : 0);
  }
}

const trackers = new WeakMap<RtSocket['conn'], Backlog>();

/** The backlog of a socket's connection (tracked from the first call on; one tracker per connection). */
export function backlogOf(socket: RtSocket): Backlog {
  let b = trackers.get(socket.conn);
  if (!b) trackers.set(socket.conn, (b = new ConnBacklog(socket.conn)));
  return b;
}
