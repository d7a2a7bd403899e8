// RGBA → I420 in the render thread with libyuv (native/yuv, issue 14), so the encoder takes
// yuv420p and runs no swscale of its own (~3.5 ms CPU per 1280×720 frame), and the pipe carries
// 1.4 MB a frame instead of 3.7 MB. Optional: without the built addon, or with YUV_CONVERT=off,
// FFmpeg converts RGBA as before. Loaded with createRequire because an addon is CommonJS only.
import { createRequire } from 'node:module';

interface YuvAddon {
  rgbaToI420(src: Uint8Array, width: number, height: number, dst: Uint8Array): void;
}

/** YUV_CONVERT: auto = libyuv when the addon is built, off = FFmpeg converts RGBA. */
export type YuvMode = 'auto' | 'off';

export interface YuvPath {
  /** The converter's factory, or null: FFmpeg converts. */
  addon: YuvAddon | null;
  /** For the one log line that says which path a worker uses. */
  describe: string;
}

// src/render/yuv.ts and dist/render/yuv.js are both two folders below the project root.
const ADDON_PATH = '../../native/yuv/build/Release/yuv.node';

let cached: { addon: YuvAddon | null; error: string } | undefined;

/** Loads the addon once per thread (a load that failed is not retried). */
function load(): { addon: YuvAddon | null; error: string } {
  if (cached) return cached;
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as YuvAddon;
    if (typeof addon.rgbaToI420 !== 'function') throw new Error('no rgbaToI420 export');
    cached = { addon, error: '' };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const notBuilt = (err as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND';
    cached = { addon: null, error: notBuilt ? 'native/yuv is not built (libyuv-dev missing at npm install?)' : message };
  }
  return cached;
}

/** Which path frames take to the encoder in this process. */
export function yuvPath(mode: YuvMode): YuvPath {
  if (mode === 'off') return { addon: null, describe: 'FFmpeg converts RGBA to yuv420p (YUV_CONVERT=off)' };
  const { addon, error } = load();
  if (!addon) return { addon: null, describe: `FFmpeg converts RGBA to yuv420p: ${error}` };
  return { addon, describe: 'render threads convert RGBA to I420 with libyuv (native/yuv); FFmpeg takes yuv420p' };
}

/** Bytes of one I420 frame: the Y plane, then U and V at half width and half height. */
export const i420Bytes = (width: number, height: number): number => (width * height * 3) / 2;

/** Output buffers kept for reuse; past this many in flight a frame gets a buffer of its own. */
const MAX_SLOTS = 8;

interface Slot {
  buf: Buffer;
  /** Pipe writes of this buffer not yet completed. */
  inFlight: number;
}

/**
 * Converts the frames of one stream, into a small ring of I420 buffers reused once the pipe
 * write that used them has completed (written()): a fresh 1.4 MB buffer per frame would cost
 * page faults on every frame (see render-thread.ts). The same source Buffer handed in again (the
 * shed ladder in pipeline.ts repeats `lastFrame`) is converted once: a source must not change
 * after it is handed in, as FfmpegSupervisor.writeFrame already requires.
 */
export class I420Converter {
  readonly srcBytes: number;
  readonly outBytes: number;
  /** Frames converted, and frames that reused the previous conversion. */
  converted = 0;
  repeated = 0;
  private readonly slots: Slot[] = [];
  private lastSrc: Buffer | null = null;
  private lastSlot: Slot | null = null;

  constructor(
    private readonly addon: YuvAddon,
    readonly width: number,
    readonly height: number,
  ) {
    if (width % 2 || height % 2) throw new TypeError(`I420 needs an even frame size, not ${width}x${height}`);
    this.srcBytes = width * height * 4;
    this.outBytes = i420Bytes(width, height);
  }

  /** The I420 frame of `rgba`; hand it back with written() when its write completes. Throws a TypeError on a wrong size. */
  convert(rgba: Buffer): Buffer {
    if (rgba === this.lastSrc && this.lastSlot) {
      this.lastSlot.inFlight += 1;
      this.repeated += 1;
      return this.lastSlot.buf;
    }
    const slot = this.freeSlot();
    // Forget the previous frame first: if the conversion throws, no stale pairing survives.
    this.lastSrc = null;
    this.lastSlot = null;
    this.addon.rgbaToI420(rgba, this.width, this.height, slot.buf);
    this.converted += 1;
    slot.inFlight += 1;
    if (this.slots.includes(slot)) {
      this.lastSrc = rgba;
      this.lastSlot = slot;
    }
    return slot.buf;
  }

  /** The pipe write of `out` has completed (or failed): its buffer may be reused. */
  written(out: Buffer): void {
    const slot = this.slots.find((s) => s.buf === out);
    if (slot && slot.inFlight > 0) slot.inFlight -= 1;
  }

  /** Buffers the ring holds now (for tests and stats). */
  get ringSize(): number {
    return this.slots.length;
  }

  private freeSlot(): Slot {
    const free = this.slots.find((s) => s.inFlight === 0);
    if (free) return free;
    const slot = { buf: Buffer.allocUnsafeSlow(this.outBytes), inFlight: 0 };
    // Writes that never complete must not grow the ring without bound: such a frame's buffer is its own.
    if (this.slots.length < MAX_SLOTS) this.slots.push(slot);
    return slot;
  }
}

/** A converter for one stream, or null when this process has no addon (or YUV_CONVERT=off). */
export function createI420Converter(mode: YuvMode, width: number, height: number): I420Converter | null {
  const { addon } = yuvPath(mode);
  return addon ? new I420Converter(addon, width, height) : null;
}
