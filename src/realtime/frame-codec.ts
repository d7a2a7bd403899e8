// Frames on the Redis frame bus: a 16-byte header (magic, version, sequence, capture time)
// then the JPEG. One encoded buffer per frame, shared by every subscriber.
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
