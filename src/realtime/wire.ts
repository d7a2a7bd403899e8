// Frames of socket.io streams on Redis (the per-stream channel and the catch-up list): an
// 18-byte header, then the payload exactly as the streamer sent it (UTF-8 of a string, or the
// bytes). Encoded once by the streamer's node; the same buffer goes to the list and the channel.
import type { StreamFrame } from './protocol.js';

const MAGIC = 0x52; // "R"
const FLAG_STRING = 1;
export const WIRE_HEADER_BYTES = 18;

export interface WireFrame {
  seq: number;
  ts: number;
  /** Node that published it (its own subscribers skip it: it already emitted locally). */
  origin: number;
  data: string | Buffer;
}

export function encodeWire(f: WireFrame): Buffer {
  const isString = typeof f.data === 'string';
  const len = isString ? Buffer.byteLength(f.data as string) : (f.data as Buffer).length;
  const buf = Buffer.allocUnsafe(WIRE_HEADER_BYTES + len);
  buf.writeUInt8(MAGIC, 0);
  buf.writeUInt8(isString ? FLAG_STRING : 0, 1);
  buf.writeUInt32BE(f.seq >>> 0, 2);
  buf.writeDoubleBE(f.ts, 6);
  buf.writeUInt32BE(f.origin >>> 0, 14);
  if (isString) buf.write(f.data as string, WIRE_HEADER_BYTES, 'utf8');
  else (f.data as Buffer).copy(buf, WIRE_HEADER_BYTES);
  return buf;
}

/** Binary payloads are views into `buf` (no copy). Null for anything that is not ours. */
export function decodeWire(buf: Buffer): WireFrame | null {
  if (buf.length < WIRE_HEADER_BYTES || buf.readUInt8(0) !== MAGIC) return null;
  const isString = (buf.readUInt8(1) & FLAG_STRING) !== 0;
  return {
    seq: buf.readUInt32BE(2),
    ts: buf.readDoubleBE(6),
    origin: buf.readUInt32BE(14),
    data: isString ? buf.toString('utf8', WIRE_HEADER_BYTES) : buf.subarray(WIRE_HEADER_BYTES),
  };
}

export function toStreamFrame(streamKey: string, f: WireFrame): StreamFrame {
  return { streamKey, data: f.data, timestamp: f.ts, seq: f.seq };
}
