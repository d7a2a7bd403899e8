// Getting frames to viewers. One `stream:data` packet is encoded once for every viewer of a
// node: socket.io's own room broadcast pre-builds the WebSocket frame only for text-only
// packets; a binary frame (a text header plus an attachment) would be encoded and framed again
// for each viewer. Here both parts are encoded once and handed to each connection with
// engine.io's `wsPreEncodedFrame` (the option socket.io's adapter uses), so per viewer only
// the socket writes remain.
// Connections on HTTP long-polling get the same encoded packets without the WebSocket frames.
import type { RtServer, RtSocket } from './distributor.js';
import type { StreamFrame } from './protocol.js';

type Encoded = string | Buffer;

export interface PreEncoded {
  packets: Encoded[];
  frames: Buffer[][];
}

interface Encoder {
  encode(packet: { type: number; nsp: string; data: unknown[] }): Encoded[];
}

const EVENT = 2;

/** RFC 6455 frame (server to client: unmasked), as [header, payload] like ws's Sender.frame. */
export function wsFrame(payload: Buffer, opcode: 1 | 2): Buffer[] {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.allocUnsafe(2);
    header[1] = len;
  } else if (len < 65536) {
    header = Buffer.allocUnsafe(4);
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.allocUnsafe(10);
    header[1] = 127;
    header.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    header.writeUInt32BE(len >>> 0, 6);
  }
  header[0] = 0x80 | opcode; // FIN
  return [header, payload];
}

export function preEncode(io: RtServer, event: string, payload: unknown): PreEncoded {
  const packets = (io as unknown as { encoder: Encoder }).encoder.encode({ type: EVENT, nsp: '/', data: [event, payload] });
  // Engine.IO: a text packet is "4" (message) + the string; a binary one is the bytes as is.
  const frames = packets.map((p) => (typeof p === 'string' ? wsFrame(Buffer.from('4' + p), 1) : wsFrame(p, 2)));
  return { packets, frames };
}

interface EngineConn {
  readyState: string;
  transport?: { name?: string; perMessageDeflate?: unknown };
}

export function sendPreEncoded(socket: RtSocket, pre: PreEncoded): void {
  const conn = socket.conn as unknown as EngineConn;
  if (conn.readyState !== 'open' || !socket.connected) return;
  const ws = conn.transport?.name === 'websocket' && !conn.transport.perMessageDeflate;
  const client = (socket as unknown as { client: { writeToEngine(p: Encoded[], o: object): void } }).client;
  for (let i = 0; i < pre.packets.length; i++) {
    client.writeToEngine([pre.packets[i]], ws ? { preEncoded: true, wsPreEncodedFrame: pre.frames[i] } : { preEncoded: true });
  }
}

/** Bytes a socket's connection still holds in user space: engine.io's queue plus the WebSocket's. */
export function backlog(socket: RtSocket): number {
  const conn = socket.conn as unknown as { writeBuffer: { data?: unknown }[]; transport?: { socket?: { bufferedAmount?: number } } };
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const p of conn.writeBuffer) {
    const d = p.data;
    bytes += typeof d === 'string' ? d.length : d && typeof (d as Buffer).byteLength === 'number' ? (d as Buffer).byteLength : 0;
  }
  return bytes;
}

/**
 * socket.io's decoders accept at most 10 binary attachments per packet (socket.io-parser
 * `maxAttachments`): the catch-up goes out in parts of at most 10 binary frames, oldest first.
 */
export function bufferParts(frames: StreamFrame[], maxBinary = 10): { frames: StreamFrame[]; part: number; parts: number }[] {
  const parts: StreamFrame[][] = [[]];
  let binary = 0;
  for (const f of frames) {
    const isBinary = typeof f.data !== 'string';
    if (isBinary && binary === maxBinary) {
      parts.push([]);
      binary = 0;
    }
    parts[parts.length - 1].push(f);
    if (isBinary) binary += 1;
  }
  return parts.map((p, i) => ({ frames: p, part: i + 1, parts: parts.length }));
}
