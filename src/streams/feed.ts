// Fans the frame bus out to this web process's SSE clients. One Redis subscription per stream
// with clients; each frame is base64-encoded once into one SSE chunk shared by every client;
// a client whose socket still holds a previous frame skips this one (bounded memory per client).
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { Subscriber } from '../redis/subscriber.js';
import { log, redactKey } from '../logger.js';
import { BusSubscription, lastFrame, type BusFrame, type EndedEvent } from './bus.js';
import { isActive } from './state.js';
import { WatchMarker } from './preview-watch.js';

const logger = log('STREAM-FEED');

export const STOPPED_MESSAGE = 'data: stream_stopped\n\n';
/**
 * What a web process that shuts down sends its viewers instead: the stream goes on (another
 * replica serves it), so EventSource is told to reconnect after 1 s, and nothing says stopped.
 */
export const RECONNECT_MESSAGE = 'retry: 1000\n\n';
/** Proxies close idle connections: a comment line now and then keeps them open. */
const PING_MS = 15_000;

interface Client {
  res: Response;
  sent: number;
  skipped: number;
  ping: NodeJS.Timeout;
  /** Capture time of the newest frame it got on joining: the bus's copies of it (or older) are skipped. */
  joinedAt?: number;
}

const sseChunk = (frame: BusFrame) => Buffer.from(`data: ${frame.jpeg.toString('base64')}\n\n`);

export type FrameListener = (streamKey: string, frame: BusFrame) => void;
export type EndedListener = (ev: EndedEvent) => void;

export class FeedHub {
  private readonly clients = new Map<string, Set<Client>>();
  private readonly listeners = new Set<FrameListener>();
  private readonly endedListeners = new Set<EndedListener>();
  /** Streams subscribed by watch() (socket.io relay): the last SSE client must not unsubscribe them. */
  private readonly watched = new Set<string>();
  private readonly misses = new Map<string, number>();
  private readonly watchTimer: NodeJS.Timeout;
  private readonly bus: BusSubscription;
  /** Tells the workers which streams this node serves previews of (the others preview at the idle rate). */
  private readonly marker: WatchMarker;
  private closed = false;
  /** Frames skipped by slow clients since start (kept when they leave: a counter). */
  private skippedTotal = 0;

  constructor(
    sub: Subscriber,
    private readonly redis: Redis,
  ) {
    this.bus = new BusSubscription(sub, {
      frame: (streamKey, frame) => this.onFrameMessage(streamKey, frame),
      event: (ev) => {
        this.endStream(ev.streamKey, ev.reason);
        for (const l of this.endedListeners) l(ev);
      },
    });
    this.bus.ready.catch((err) => logger.warn(`subscribe events: ${err}`));
    // Events can be missed (Redis restart, a worker killed without a word): check state too.
    this.watchTimer = setInterval(() => this.watchStates().catch(() => {}), 1000);
    this.watchTimer.unref();
    this.marker = new WatchMarker(redis, () => [...new Set([...this.clients.keys(), ...this.watched])]);
  }

  /** Other consumers of the bus in this process (socket.io rooms). */
  onFrame(listener: FrameListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ended events of server-rendered streams (from `sf:events`), for the socket.io relay. */
  onEnded(listener: EndedListener): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** Subscribe to a stream's frames without an SSE client (socket.io relay). */
  async watch(streamKey: string): Promise<void> {
    this.watched.add(streamKey);
    await Promise.all([this.bus.addStream(streamKey), this.marker.touch(streamKey)]);
  }

  async unwatch(streamKey: string): Promise<void> {
    this.watched.delete(streamKey);
    if (!this.clients.get(streamKey)?.size) await this.bus.removeStream(streamKey);
  }

  stats(): { streams: number; clients: number } {
    let clients = 0;
    for (const set of this.clients.values()) clients += set.size;
    return { streams: this.clients.size, clients };
  }

  /** Clients per stream and frames skipped since start (the /metrics gauges read this). */
  metrics(): { clients: Array<{ streamKey: string; clients: number }>; skipped: number } {
    return { clients: [...this.clients].map(([streamKey, set]) => ({ streamKey, clients: set.size })), skipped: this.skippedTotal };
  }

  /** Per-client counters of one stream: frames sent, frames skipped, bytes still queued. */
  clientStats(streamKey: string): Array<{ sent: number; skipped: number; queuedBytes: number }> {
    return [...(this.clients.get(streamKey) ?? [])].map((c) => ({ sent: c.sent, skipped: c.skipped, queuedBytes: c.res.writableLength }));
  }

  /** Attach an SSE response; resolves once subscribed. */
  async add(streamKey: string, res: Response): Promise<void> {
    let set = this.clients.get(streamKey);
    if (!set) {
      set = new Set();
      this.clients.set(streamKey, set);
      await Promise.all([this.bus.addStream(streamKey), this.marker.touch(streamKey)]);
    }
    const client: Client = { res, sent: 0, skipped: 0, ping: setInterval(() => write(res, ': ping\n\n'), PING_MS) };
    set.add(client);
    res.on('close', () => this.remove(streamKey, client));
    // A client that joins between two frames (a second apart at the idle preview rate) gets the
    // newest at once rather than waiting for the next, unless the bus was faster.
    const newest = await lastFrame(this.redis, streamKey);
    if (newest && client.sent === 0 && set.has(client) && write(res, sseChunk(newest))) {
      client.sent += 1;
      client.joinedAt = newest.ts;
    }
  }

  /** Close every SSE client of a stream with the parity message. Safe to call any number of times. */
  endStream(streamKey: string, reason: string, last: string = STOPPED_MESSAGE): void {
    const set = this.clients.get(streamKey);
    if (!set?.size) return;
    logger.info(`stream ${redactKey(streamKey)} ${last === STOPPED_MESSAGE ? 'inactive' : 'left'} (${reason}), closing ${set.size} SSE connection(s)`);
    for (const c of [...set]) {
      // Out of the fan-out first: a stalled client's socket may not close for a long time, and
      // neither a frame, a ping nor a second end may be written to a response already ended.
      this.remove(streamKey, c);
      endResponse(c.res, last);
    }
  }

  private remove(streamKey: string, client: Client): void {
    clearInterval(client.ping);
    const set = this.clients.get(streamKey);
    if (!set?.delete(client)) return;
    logger.info(`SSE client left ${redactKey(streamKey)} (${client.sent} frames sent, ${client.skipped} skipped)`);
    if (set.size === 0) {
      this.clients.delete(streamKey);
      if (!this.watched.has(streamKey)) this.bus.removeStream(streamKey).catch(() => {});
    }
  }

  private onFrameMessage(streamKey: string, frame: BusFrame): void {
    for (const l of this.listeners) l(streamKey, frame);
    const set = this.clients.get(streamKey);
    if (!set?.size) return;
    const chunk = sseChunk(frame);
    for (const c of set) {
      if (c.joinedAt !== undefined) {
        if (frame.ts <= c.joinedAt) continue; // the frame it joined with, published a moment later
        c.joinedAt = undefined;
      }
      // Anything still queued in userland means the client is behind: skip rather than pile up.
      if (c.res.writableLength > 0) {
        c.skipped += 1;
        this.skippedTotal += 1;
        continue;
      }
      if (write(c.res, chunk)) c.sent += 1;
    }
  }

  private async watchStates(): Promise<void> {
    if (this.closed || this.redis.status !== 'ready') return;
    for (const streamKey of [...this.clients.keys()]) {
      if (await isActive(this.redis, streamKey)) {
        this.misses.delete(streamKey);
        continue;
      }
      // Two misses in a row: a worker restoring its state after a Redis restart gets a second.
      const n = (this.misses.get(streamKey) ?? 0) + 1;
      this.misses.set(streamKey, n);
      if (n >= 2) {
        this.misses.delete(streamKey);
        this.endStream(streamKey, 'state inactive');
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchTimer);
    this.marker.close();
    // The streams go on: viewers reconnect to another web process, never told stream_stopped.
    for (const key of [...this.clients.keys()]) this.endStream(key, 'server shutting down', RECONNECT_MESSAGE);
    this.bus.close();
  }
}

/** Write unless the response is already ended or gone (a write then is an uncaught error). */
function write(res: Response, chunk: string | Buffer): boolean {
  if (res.writableEnded || res.destroyed) return false;
  res.write(chunk);
  return true;
}

/** End a response with the parity message (or another last chunk), once: a second end() would throw write-after-end. */
export function endResponse(res: Response, last: string = STOPPED_MESSAGE): void {
  if (res.writableEnded || res.destroyed) return;
  res.end(last);
}
