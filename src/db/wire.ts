// A Postgres wire-protocol server in front of one PGlite instance, safe for several clients.
//
// PGlite is a single backend with a single session. pglite-socket's PGLiteSocketServer (0.2.x)
// multiplexes clients message by message, so two clients' extended-protocol queries
// (Parse/Bind/Execute/Sync) interleave and run each other's statements (we measured wrong
// rows and "bind message supplies 1 parameters, but prepared statement requires 3"), and
// with one slot a pool that replaces a client after an error is refused. Here the unit of
// scheduling is a client's whole request — everything up to Sync or a simple Query — and a
// client keeps the backend while it is inside a transaction or between Flush and Sync.
// Session state (SET, prepared statement names, temp tables) is still shared by all clients.
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { log, errMessage } from '../logger.js';

const logger = log('DB');

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const ROLLBACK = simpleQuery('ROLLBACK');

function simpleQuery(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 0x51;
  head.writeInt32BE(4 + text.length, 1);
  return Buffer.concat([head, text]);
}

interface Unit {
  conn: Conn;
  bytes: Buffer;
  /** Ends with Flush: the client sends more of the same request after the answer. */
  flush: boolean;
}

class Conn {
  buf: Buffer = Buffer.alloc(0);
  parts: Buffer[] = [];
  started = false;
  /** Sent Flush but not yet Sync: its unnamed statement/portal must not be disturbed. */
  midRequest = false;
  closed = false;
  constructor(
    readonly id: number,
    readonly socket: net.Socket,
  ) {}
}

export class PgliteWireServer {
  private server: net.Server | undefined;
  private readonly conns = new Set<Conn>();
  private queue: Unit[] = [];
  private owner: Conn | null = null;
  private pumping = false;
  private nextId = 1;

  constructor(
    private readonly db: PGlite,
    private readonly opts: { host?: string; port?: number; maxConnections?: number } = {},
  ) {}

  async start(): Promise<{ host: string; port: number }> {
    const host = this.opts.host ?? '127.0.0.1';
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return { host, port: (server.address() as net.AddressInfo).port };
  }

  /** Closes every client and stops listening; queued requests are dropped. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.conns) c.socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    // Let the close handlers run (they may roll back an open transaction) before PGlite closes.
    while (this.pumping) await new Promise((r) => setTimeout(r, 5));
  }

  get connections(): number {
    return this.conns.size;
  }

  private accept(socket: net.Socket): void {
    if (this.conns.size >= (this.opts.maxConnections ?? 32)) {
      socket.destroy();
      return;
    }
    const conn = new Conn(this.nextId++, socket);
    this.conns.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(conn, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose(conn));
  }

  private onData(conn: Conn, chunk: Buffer): void {
    conn.buf = conn.buf.length ? Buffer.concat([conn.buf, chunk]) : chunk;
    for (;;) {
      if (!conn.started) {
        if (conn.buf.length < 8) return;
        const len = conn.buf.readInt32BE(0);
        if (conn.buf.length < len) return;
        const code = conn.buf.readInt32BE(4);
        const msg = conn.buf.subarray(0, len);
        conn.buf = conn.buf.subarray(len);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          conn.socket.write('N'); // no encryption on a loopback socket
        } else if (code === CANCEL_REQUEST) {
          conn.socket.destroy(); // nothing to cancel: one backend, requests run to completion
          return;
        } else if (code === PROTOCOL_3) {
          conn.started = true;
          this.enqueue({ conn, bytes: Buffer.from(msg), flush: false });
        } else {
          conn.socket.destroy();
          return;
        }
        continue;
      }
      if (conn.buf.length < 5) return;
      const len = 1 + conn.buf.readInt32BE(1);
      if (conn.buf.length < len) return;
      const type = conn.buf[0];
      const msg = conn.buf.subarray(0, len);
      conn.buf = conn.buf.subarray(len);
      if (type === 0x58 /* X: Terminate */) {
        conn.socket.end();
        return;
      }
      conn.parts.push(Buffer.from(msg));
      // S: Sync, Q: simple Query, H: Flush — the client now waits for an answer.
      if (type === 0x53 || type === 0x51 || type === 0x48) {
        const bytes = Buffer.concat(conn.parts);
        conn.parts = [];
        this.enqueue({ conn, bytes, flush: type === 0x48 });
      }
    }
  }

  private enqueue(unit: Unit): void {
    this.queue.push(unit);
    void this.pump();
  }

  private next(): Unit | undefined {
    if (this.owner) {
      const i = this.queue.findIndex((u) => u.conn === this.owner);
      return i < 0 ? undefined : this.queue.splice(i, 1)[0];
    }
    return this.queue.shift();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.owner?.closed) await this.release(this.owner);
        const unit = this.next();
        if (!unit) break;
        const { conn, bytes } = unit;
        if (conn.closed) continue;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
              onRawData: (data) => {
                if (!conn.closed && data.length) conn.socket.write(Buffer.from(data));
              },
            }),
          );
        } catch (err) {
          logger.warn(`embedded Postgres request failed: ${errMessage(err)}`);
          conn.socket.destroy();
        }
        conn.midRequest = unit.flush;
        this.owner = this.db.isInTransaction() || conn.midRequest ? conn : null;
      }
    } finally {
      this.pumping = false;
    }
  }

  private onClose(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    this.conns.delete(conn);
    this.queue = this.queue.filter((u) => u.conn !== conn);
    // If it held the backend, the pump releases it (now, or after the request in progress).
    if (this.owner === conn) void this.pump();
  }

  /** A client left while holding the backend: end its request and transaction. */
  private async release(conn: Conn): Promise<void> {
    try {
      // Raw protocol inside runExclusive (db.exec would wait for the lock we hold).
      await this.db.runExclusive(async () => {
        if (conn.midRequest) await this.db.execProtocolRaw(new Uint8Array(SYNC));
        if (this.db.isInTransaction()) await this.db.execProtocolRaw(new Uint8Array(ROLLBACK));
      });
    } catch (err) {
      logger.warn(`cleaning up after a closed embedded Postgres client: ${errMessage(err)}`);
    }
    if (this.owner === conn) this.owner = null;
  }
}
