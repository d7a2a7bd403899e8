// MPEG-TS from the encoder, cut into whole 188-byte packets, with the current GOP kept so an
// output that (re)starts joins at the last keyframe at once, headers included, instead of
// decoding garbage or waiting up to 2 s for the next one. Pure: no I/O.

export const TS_PACKET = 188;
const SYNC = 0x47;
/** A GOP far larger than this (2 s at 2.5 Mbit/s is ~650 KB) means no keyframe is coming: keep the cache bounded. */
const MAX_GOP_BYTES = 8 * 1024 * 1024;

/** Does this packet start a keyframe? The TS muxer sets random_access_indicator there. */
export function isRandomAccess(pkt: Buffer, off = 0): boolean {
  const afc = (pkt[off + 3] >> 4) & 0x3;
  if (afc !== 2 && afc !== 3) return false;
  return pkt[off + 4] > 0 && (pkt[off + 5] & 0x40) !== 0;
}

export const packetPid = (pkt: Buffer, off = 0): number => ((pkt[off + 1] & 0x1f) << 8) | pkt[off + 2];

export class TsGopCache {
  private rest: Buffer = Buffer.alloc(0);
  /** Packets since the PAT that came before the last keyframe. */
  private gop: Buffer[] = [];
  private gopBytes = 0;
  /** Packets since the last PAT (the head of a GOP if a keyframe follows). */
  private sincePat: Buffer[] = [];
  private sincePatBytes = 0;
  private keyframes = 0;

  /** Takes a chunk of encoder output; returns the whole packets in it (may be empty), for the outputs. */
  push(chunk: Buffer): Buffer {
    let data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    // Lost sync (should not happen with a pipe): skip to the next sync byte.
    if (data.length && data[0] !== SYNC) {
      const i = data.indexOf(SYNC);
      data = i < 0 ? Buffer.alloc(0) : data.subarray(i);
    }
    const whole = data.length - (data.length % TS_PACKET);
    this.rest = Buffer.from(data.subarray(whole));
    const out = data.subarray(0, whole);
    for (let off = 0; off < out.length; off += TS_PACKET) this.index(out, off);
    return out;
  }

  /** The bytes an output starting now should get first: the current GOP from its PAT; empty before the first keyframe. */
  snapshot(): Buffer {
    return this.keyframes ? Buffer.concat([...this.gop, ...this.sincePat]) : Buffer.alloc(0);
  }

  /** A new encoder run: its stream starts afresh. */
  reset(): void {
    this.rest = Buffer.alloc(0);
    this.gop = [];
    this.sincePat = [];
    this.gopBytes = this.sincePatBytes = 0;
    this.keyframes = 0;
  }

  get keyframeCount(): number {
    return this.keyframes;
  }

  private index(buf: Buffer, off: number): void {
    const pkt = buf.subarray(off, off + TS_PACKET);
    if (packetPid(pkt) === 0) {
      // A PAT: what came since the previous one belongs to the GOP.
      this.gop.push(...this.sincePat);
      this.gopBytes += this.sincePatBytes;
      this.sincePat = [];
      this.sincePatBytes = 0;
    } else if (isRandomAccess(pkt)) {
      // A keyframe: the GOP now starts at the PAT/PMT just before it.
      this.gop = [];
      this.gopBytes = 0;
      this.keyframes += 1;
    }
    // A view, not a copy: a pipe's chunks are fresh buffers that nothing else reuses.
    this.sincePat.push(pkt);
    this.sincePatBytes += TS_PACKET;
    if (this.gopBytes + this.sincePatBytes > MAX_GOP_BYTES) {
      this.gop = [];
      this.gopBytes = 0;
      this.keyframes = 0;
    }
  }
}
