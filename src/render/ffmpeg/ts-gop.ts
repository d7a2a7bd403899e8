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

/** Start of a PSI section in a packet (after the adaptation field and pointer field); -1 if none. */
function sectionStart(pkt: Buffer): number {
  if (!(pkt[1] & 0x40)) return -1; // not the start of a section
  const afc = (pkt[3] >> 4) & 0x3;
  let p = 4;
  if (afc === 2) return -1;
  if (afc === 3) p += 1 + pkt[4];
  p += 1 + pkt[p];
  return p < TS_PACKET - 12 ? p : -1;
}

/** PAT: the PID of the first program's PMT. */
export function pmtPidOf(pat: Buffer): number | null {
  const p = sectionStart(pat);
  if (p < 0 || pat[p] !== 0x00) return null;
  const end = Math.min(p + 3 + (((pat[p + 1] & 0x0f) << 8) | pat[p + 2]) - 4, TS_PACKET - 4);
  for (let i = p + 8; i + 4 <= end; i += 4) {
    if (((pat[i] << 8) | pat[i + 1]) !== 0) return ((pat[i + 2] & 0x1f) << 8) | pat[i + 3];
  }
  return null;
}

/** PMT: the PID of the H.264 stream (stream_type 0x1B). */
export function videoPidOf(pmt: Buffer): number | null {
  const p = sectionStart(pmt);
  if (p < 0 || pmt[p] !== 0x02) return null;
  const end = Math.min(p + 3 + (((pmt[p + 1] & 0x0f) << 8) | pmt[p + 2]) - 4, TS_PACKET - 4);
  let i = p + 12 + (((pmt[p + 10] & 0x0f) << 8) | pmt[p + 11]);
  while (i + 5 <= end) {
    if (pmt[i] === 0x1b) return ((pmt[i + 1] & 0x1f) << 8) | pmt[i + 2];
    i += 5 + (((pmt[i + 3] & 0x0f) << 8) | pmt[i + 4]);
  }
  return null;
}

export class TsGopCache {
  private rest: Buffer = Buffer.alloc(0);
  /** Packets since the PAT that came before the last keyframe. */
  private gop: Buffer[] = [];
  private gopBytes = 0;
  /** Packets since the last PAT (the head of a GOP if a keyframe follows). */
  private sincePat: Buffer[] = [];
  private sincePatBytes = 0;
  private keyframes = 0;
  private pmtPid: number | null = null;
  /** Audio packets carry the random-access flag too: only the video's count. */
  private videoPid: number | null = null;

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
    this.pmtPid = this.videoPid = null;
  }

  get keyframeCount(): number {
    return this.keyframes;
  }

  private index(buf: Buffer, off: number): void {
    const pkt = buf.subarray(off, off + TS_PACKET);
    const pid = packetPid(pkt);
    if (pid === 0) this.pmtPid ??= pmtPidOf(pkt);
    else if (pid === this.pmtPid) this.videoPid ??= videoPidOf(pkt);
    if (pid === 0) {
      // A PAT: what came since the previous one belongs to the GOP.
      this.gop.push(...this.sincePat);
      this.gopBytes += this.sincePatBytes;
      this.sincePat = [];
      this.sincePatBytes = 0;
    } else if (pid === this.videoPid && (pkt[1] & 0x40) !== 0 && isRandomAccess(pkt)) {
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
