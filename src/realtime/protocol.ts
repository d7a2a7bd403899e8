// The socket.io contract (seeds 002/004): typed event maps, the zod schema of every client
// payload, and the error codes a client can get back. Shared by the server and typed clients.
import type { Server, Socket } from 'socket.io';
import { z } from 'zod';
import { STREAM_KEY_RE } from '../config.js';

/** Catch-up ring length: a late viewer gets this many frames, oldest first. */
export const CATCHUP_FRAMES = 30;

export type Role = 'STREAMER' | 'VIEWER';

export interface User {
  id: string;
  username: string;
  role: Role;
}

/** 'socket': sent by a streamer over socket.io; 'server': rendered by a worker (frame bus). */
export type StreamKind = 'socket' | 'server';

export interface StreamInfo {
  streamKey: string;
  kind: StreamKind;
  live: boolean;
  streamer: string | null;
  viewers: number;
}

/** One frame as viewers get it. `data` keeps the type the streamer sent: string or binary. */
export interface StreamFrame {
  streamKey: string;
  data: string | Buffer;
  /** Server receive time (socket streams) or capture time (server streams), ms since epoch. */
  timestamp: number;
  seq: number;
}

export type ErrorCode =
  | 'invalid_payload'
  | 'unknown_event'
  | 'not_registered'
  | 'already_registered'
  | 'not_streamer'
  | 'not_stream_owner'
  | 'stream_not_found'
  | 'frame_too_large'
  | 'rate_limited'
  | 'unauthorized'
  | 'no_poll'
  | 'invalid_option'
  | 'vote_rejected'
  | 'unavailable'
  | 'internal_error';

export interface RtErrorPayload {
  code: ErrorCode;
  message: string;
  /** The client event that was refused. */
  event?: string;
}

export type Ack<T extends object = object> = (res: ({ ok: true } & T) | { ok: false; error: RtErrorPayload }) => void;

/** A poll as the vote widget draws it (built from the polls domain's PollView by toWirePoll). */
export interface WirePoll {
  id: string;
  question: string;
  /** Option keys, in order ("A", "B", ...): what vote:cast names. */
  options: string[];
  labels: Record<string, string>;
  counts: Record<string, number>;
  total: number;
  endsAt: string | null;
}

export interface ServerToClientEvents {
  'user:registered': (p: { user: User }) => void;
  'stream:created': (p: { stream: { streamKey: string } }) => void;
  'stream:started': (p: { stream: StreamInfo }) => void;
  'stream:joined': (p: { stream: StreamInfo }) => void;
  /** Catch-up, oldest first; binary frames come in parts of at most 10 (socket.io's attachment limit). */
  'stream:buffer': (p: { streamKey: string; frames: StreamFrame[]; part: number; parts: number }) => void;
  'stream:data': (p: StreamFrame) => void;
  'stream:viewers': (p: { streamKey: string; count: number }) => void;
  'stream:ended': (p: { streamKey: string; reason: string }) => void;
  'stream:left': (p: { streamKey: string }) => void;
  'poll:update': (p: { poll: WirePoll | null }) => void;
  error: (p: RtErrorPayload) => void;
}

export interface ClientToServerEvents {
  'user:register': (p: { username: string; role: Role }, ack?: Ack<{ user: User }>) => void;
  'stream:start': (p: { streamKey: string }, ack?: Ack<{ stream: StreamInfo }>) => void;
  'stream:end': (p: { streamKey: string }, ack?: Ack) => void;
  'stream:join': (p: { streamKey: string }, ack?: Ack<{ stream: StreamInfo }>) => void;
  'stream:leave': (p: { streamKey: string }, ack?: Ack) => void;
  'stream:data:send': (
    p: { streamKey: string; data: string | ArrayBuffer | ArrayBufferView },
    ack?: Ack<{ seq: number; viewers: number }>,
  ) => void;
  'vote:cast': (p: { option: string }, ack?: Ack<{ option: string }>) => void;
  'poll:get': (p?: object, ack?: Ack<{ poll: WirePoll | null }>) => void;
}

export type InterServerEvents = Record<string, never>;

/** What the server keeps on each socket (socket.data). */
export interface SocketData {
  user: User | null;
  /** The stream this socket streams (a STREAMER gets one key for its connection's life). */
  ownedKey: string | null;
  /** The stream this socket watches, if any (one at a time). */
  viewing: string | null;
}

export type RtServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type RtSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

const streamKey = z.string().regex(STREAM_KEY_RE, 'streamKey: 1-64 characters of A-Z a-z 0-9 _ -');
const keyOnly = z.object({ streamKey }).strict();

/** Opaque frame data: a (base64) string or bytes; bytes arrive as Buffer on the server. */
const frameData = z.union([
  z.string().min(1, 'data is empty'),
  z.instanceof(Uint8Array).refine((b) => b.byteLength > 0, 'data is empty'),
  z.instanceof(ArrayBuffer).refine((b) => b.byteLength > 0, 'data is empty'),
]);

export const schemas = {
  'user:register': z
    .object({
      username: z.string().trim().min(1).max(40).regex(/^[^\p{Cc}\p{Cs}\p{Co}\p{Cn}\u2028\u2029\u202a-\u202e\u2066-\u2069]+$/u, 'username: printable characters only'),
      role: z.enum(['STREAMER', 'VIEWER']),
    })
    .strict(),
  'stream:start': keyOnly,
  'stream:end': keyOnly,
  'stream:join': keyOnly,
  'stream:leave': keyOnly,
  'stream:data:send': z.object({ streamKey, data: frameData }).strict(),
  'vote:cast': z.object({ option: z.string().trim().min(1).max(100) }).strict(),
  'poll:get': z.object({}).strict().optional(),
} as const;

export type ClientEvent = keyof typeof schemas;
export const CLIENT_EVENTS = new Set<string>(Object.keys(schemas));

/** A refusal the client hears as an `error` event (and as `{ok:false}` on an ack). */
export class RtError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
}

/** Bytes of a frame as relayed: the string's UTF-8 length or the binary length. */
export function frameBytes(data: string | Buffer): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

export function toBuffer(data: Uint8Array | ArrayBuffer): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export const room = (key: string) => `stream:${key}`;
export const ownerRoom = (key: string) => `owner:${key}`;
