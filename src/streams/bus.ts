// The Redis frame bus, its one owner: the start job writes it, the SSE feed and the socket.io
// relay read it, and all of them go through here for channel names, the frame encoding and the
// lifecycle events.
//   `sf:frames:{key}` (binary): a 16-byte header (magic, version, sequence, capture time) then
//     the JPEG. One encoded buffer per frame, shared by every subscriber.
//   `sf:frames:last:{key}` (binary, TTL): the same bytes of the newest frame, for an SSE client
//     that joins between two frames (at the idle preview rate, a second apart).
//   `sf:events` (JSON): lifecycle events of server-rendered streams ({type: 'ended', ...}).
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { defineScripts } from '../redis/scripts.js';
import type { Subscriber, Unsubscribe } from '../redis/subscriber.js';

const MAGIC = 0x5346; // "SF"
const VERSION = 1;
export const HEADER_BYTES = 16;

export interface BusFrame {
  seq: number;
  /** Capture time, ms since epoch. */
  ts: number;
  jpeg: Buffer;
}

export function encodeFrame(f: BusFrame): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt16BE(MAGIC, 0);
  header.writeUInt8(VERSION, 2);
  header.writeUInt8(0, 3);
  header.writeUInt32BE(f.seq >>> 0, 4);
  header.writeDoubleBE(f.ts, 8);
  return Buffer.concat([header, f.jpeg]);
}

export function decodeFrame(buf: Buffer): BusFrame | null {
  if (buf.length < HEADER_BYTES || buf.readUInt16BE(0) !== MAGIC || buf.readUInt8(2) !== VERSION) return null;
  return { seq: buf.readUInt32BE(4), ts: buf.readDoubleBE(8), jpeg: buf.subarray(HEADER_BYTES) };
}

/** A server-rendered stream ended (stopped, failed, reaped); every web node closes its viewers. */
export interface EndedEvent {
  type: 'ended';
  streamKey: string;
  taskId: string;
  reason: string;
}

export type StreamEvent = EndedEvent;

export function parseEvent(message: Buffer | string): StreamEvent | null {
  try {
    const ev = JSON.parse(message.toString()) as StreamEvent;
    return ev && ev.type === 'ended' && typeof ev.streamKey === 'string' ? ev : null;
  } catch {
    return null;
  }
}

/** How long the newest frame is kept: beyond the idle preview rate's second between frames. */
export const LAST_FRAME_TTL_MS = 3000;

/** Publish one preview frame and keep it as the newest (one round trip); resolves with the number of subscribers that got it. */
export function publishFrame(redis: Redis, streamKey: string, frame: BusFrame): Promise<number> {
  return defineScripts(redis).framePublish([keys.lastFrame(streamKey)], [encodeFrame(frame), LAST_FRAME_TTL_MS, keys.frames(streamKey)]);
}

/** The newest frame of a stream (null: none in the last LAST_FRAME_TTL_MS, or Redis away). */
export async function lastFrame(redis: Redis, streamKey: string): Promise<BusFrame | null> {
  const raw = await redis.getBuffer(keys.lastFrame(streamKey)).catch(() => null);
  return raw ? decodeFrame(raw) : null;
}

export async function publishEvent(redis: Redis, ev: StreamEvent): Promise<void> {
  await redis.publish(keys.events(), JSON.stringify(ev));
}

export interface BusHandlers {
  frame?(streamKey: string, frame: BusFrame): void;
  event?(ev: StreamEvent): void;
}

/**
 * A reader of the bus through the process's subscriber (src/redis/subscriber.ts): always the
 * events channel, and the frames of the streams asked for. Other readers of the same channels
 * (the socket.io relay) keep their own subscriptions; the router counts them.
 */
export class BusSubscription {
  /** Frame subscriptions by stream key (the promise: addStream may still be subscribing). */
  private readonly streams = new Map<string, Promise<Unsubscribe>>();
  private readonly events: Promise<Unsubscribe>;
  /** Resolves once the events channel is subscribed. */
  readonly ready: Promise<void>;

  constructor(
    private readonly sub: Subscriber,
    private readonly handlers: BusHandlers,
  ) {
    this.events = sub.subscribe(keys.events(), (message) => {
      const ev = parseEvent(message);
      if (ev) this.handlers.event?.(ev);
    });
    this.ready = this.events.then(() => undefined);
  }

  /** Subscribe to a stream's frames (once: asking again for a subscribed stream does nothing). */
  async addStream(streamKey: string): Promise<void> {
    let on = this.streams.get(streamKey);
    if (!on) {
      on = this.sub.subscribe(keys.frames(streamKey), (message) => {
        const frame = decodeFrame(message);
        if (frame) this.handlers.frame?.(streamKey, frame);
      });
      this.streams.set(streamKey, on);
      on.catch(() => this.streams.get(streamKey) === on && this.streams.delete(streamKey));
    }
    await on;
  }

  async removeStream(streamKey: string): Promise<void> {
    const on = this.streams.get(streamKey);
    if (!on) return;
    this.streams.delete(streamKey);
    const off = await on.catch(() => null);
    await off?.();
  }

  /** Leave every channel of this reader. */
  close(): void {
    for (const key of [...this.streams.keys()]) void this.removeStream(key);
    this.events.then((off) => off(), () => undefined).catch(() => undefined);
  }
}
