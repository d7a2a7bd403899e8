// The Redis frame bus, its one owner: the start job writes it, the SSE feed and the socket.io
// relay read it, and all of them go through here for channel names, the frame encoding and the
// lifecycle events.
//   `sf:frames:{key}` (binary): a 16-byte header (magic, version, sequence, capture time) then
//     the JPEG. One encoded buffer per frame, shared by every subscriber.
//   `sf:events` (JSON): lifecycle events of server-rendered streams ({type: 'ended', ...}).
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';

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

/** Publish one preview frame; resolves with the number of subscribers that got it. */
export function publishFrame(redis: Redis, streamKey: string, frame: BusFrame): Promise<number> {
  return redis.publish(keys.frames(streamKey), encodeFrame(frame));
}

export async function publishEvent(redis: Redis, ev: StreamEvent): Promise<void> {
  await redis.publish(keys.events(), JSON.stringify(ev));
}

export interface BusHandlers {
  frame?(streamKey: string, frame: BusFrame): void;
  event?(ev: StreamEvent): void;
}

/**
 * A reader of the bus on a subscriber connection: always the events channel, and the frames of
 * the streams asked for. Messages of other channels on the same connection are left alone.
 */
export class BusSubscription {
  private readonly framePrefix = keys.frames('');
  private readonly onMessage = (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), message);
  /** Resolves once the events channel is subscribed. */
  readonly ready: Promise<void>;

  constructor(
    private readonly sub: Redis,
    private readonly handlers: BusHandlers,
  ) {
    sub.on('messageBuffer', this.onMessage);
    this.ready = sub.subscribe(keys.events()).then(() => undefined);
  }

  async addStream(streamKey: string): Promise<void> {
    await this.sub.subscribe(keys.frames(streamKey));
  }

  async removeStream(streamKey: string): Promise<void> {
    await this.sub.unsubscribe(keys.frames(streamKey));
  }

  close(): void {
    this.sub.off('messageBuffer', this.onMessage);
  }

  private dispatch(channel: string, message: Buffer): void {
    if (channel === keys.events()) {
      const ev = parseEvent(message);
      if (ev) this.handlers.event?.(ev);
      return;
    }
    if (!channel.startsWith(this.framePrefix)) return;
    const frame = decodeFrame(message);
    if (frame) this.handlers.frame?.(channel.slice(this.framePrefix.length), frame);
  }
}
