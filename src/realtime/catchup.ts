// Catch-up rings: the last frames of a stream for a viewer who joins late, bounded by count,
// bytes and age. Socket streams keep theirs in Redis (any node can serve it; only the
// streamer's node writes it); server-rendered streams keep a small one in each watching node.
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { frameBytes, type StreamFrame } from './protocol.js';
import { decodeWire, toStreamFrame } from './wire.js';
import { defineScripts, type RedisScripts } from '../redis/index.js';

export interface RingLimits {
  frames: number;
  bytes: number;
  ageMs: number;
}

/**
 * Pure: how many of the newest frames to keep (sizes newest first). Always keeps the newest
 * one, then as many as fit in the count and byte budgets.
 */
export function keepCount(sizesNewestFirst: readonly number[], limits: Pick<RingLimits, 'frames' | 'bytes'>): number {
  let total = 0;
  let n = 0;
  for (const size of sizesNewestFirst) {
    if (n >= limits.frames) break;
    if (n > 0 && total + size > limits.bytes) break;
    total += size;
    n += 1;
  }
  return n;
}

/** The Redis ring of one node's streams (writer side) and of any stream (reader side). */
export class RedisCatchup {
  /** Sizes of the frames this node pushed, newest first, per stream it writes. */
  private readonly sizes = new Map<string, number[]>();
  private readonly scripts: RedisScripts;

  constructor(
    private readonly redis: Redis,
    private readonly limits: RingLimits,
  ) {
    this.scripts = defineScripts(redis);
  }

  /**
   * Push an encoded frame; `publishTo` also publishes the same bytes on that channel. One round
   * trip per frame, payload sent once (src/redis/lua/catchup-push.lua).
   */
  push(streamKey: string, encoded: Buffer, publishTo: string | null): Promise<unknown> {
    let sizes = this.sizes.get(streamKey);
    if (!sizes) this.sizes.set(streamKey, (sizes = []));
    sizes.unshift(encoded.length);
    const keep = keepCount(sizes, this.limits);
    sizes.length = keep;
    return this.scripts.catchupPush([keys.catchup(streamKey)], [encoded, keep, this.limits.ageMs, publishTo ?? '']);
  }

  /** Frames oldest first, younger than the age bound. */
  async read(streamKey: string, now = Date.now()): Promise<StreamFrame[]> {
    const raw = await this.redis.lrangeBuffer(keys.catchup(streamKey), 0, this.limits.frames - 1);
    const frames: StreamFrame[] = [];
    for (let i = raw.length - 1; i >= 0; i--) {
      const f = decodeWire(raw[i]);
      if (f && now - f.ts <= this.limits.ageMs) frames.push(toStreamFrame(streamKey, f));
    }
    return frames;
  }

  size(streamKey: string): number {
    return this.sizes.get(streamKey)?.length ?? 0;
  }

  /** Forget the writer-side sizes (the list itself is deleted with the stream's registry entry). */
  forget(streamKey: string): void {
    this.sizes.delete(streamKey);
  }
}

/** In-process ring (server-rendered streams watched by this node). */
export class MemoryRing {
  private frames: StreamFrame[] = [];
  private bytes = 0;

  constructor(private readonly limits: RingLimits) {}

  push(frame: StreamFrame): void {
    this.frames.push(frame);
    this.bytes += frameBytes(frame.data);
    while (this.frames.length > this.limits.frames || (this.frames.length > 1 && this.bytes > this.limits.bytes)) {
      this.bytes -= frameBytes(this.frames.shift()!.data);
    }
  }

  snapshot(now = Date.now()): StreamFrame[] {
    return this.frames.filter((f) => now - f.timestamp <= this.limits.ageMs);
  }

  get size(): number {
    return this.frames.length;
  }
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
