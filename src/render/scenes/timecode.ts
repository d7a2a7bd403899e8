// A measuring scene: the frame's render time as a row of black/white blocks (48 bits, ms since
// epoch) that survive H.264, so whoever reads the broadcast can compute render-to-screen latency
// (bench/broadcast-latency.ts decodes it). Also a plain clock for people.
import type { Scene } from '../scene.js';
import { FONT_MONO } from '../fonts.js';
import { clockText } from './testcard.js';

export const TIMECODE_BITS = 48;

/** Block size in pixels for a frame width: the 48 blocks span most of the width. */
export function timecodeBlock(width: number): number {
  return Math.max(8, Math.floor((width * 0.75) / TIMECODE_BITS));
}

/** Reads the time code back from a grayscale frame (one byte per pixel). */
export function readTimecode(gray: Uint8Array, width: number): number | null {
  const block = timecodeBlock(width);
  const y = Math.floor(block / 2);
  let value = 0;
  for (let i = 0; i < TIMECODE_BITS; i++) {
    const x = i * block + Math.floor(block / 2);
    const bit = gray[y * width + x] > 128 ? 1 : 0;
    value = value * 2 + bit;
  }
  return value > 0 ? value : null;
}

export const timecode: Scene = {
  id: 'timecode',
  description: 'Render time as a machine-readable bar (for latency measurement) and a clock',
  draw(ctx, info) {
    const { width: w, height: h } = info;
    ctx.fillStyle = '#202830';
    ctx.fillRect(0, 0, w, h);
    const block = timecodeBlock(w);
    let t = Math.round(info.timeMs);
    for (let i = TIMECODE_BITS - 1; i >= 0; i--) {
      ctx.fillStyle = t % 2 ? '#ffffff' : '#000000';
      ctx.fillRect(i * block, 0, block, block);
      t = Math.floor(t / 2);
    }
    ctx.fillStyle = '#ffffff';
    ctx.textBaseline = 'middle';
    ctx.font = `${Math.round(h / 9)}px "${FONT_MONO}"`;
    ctx.fillText(clockText(info.timeMs), w * 0.08, h * 0.5);
    ctx.font = `${Math.round(h / 20)}px "${FONT_MONO}"`;
    ctx.fillText(`frame ${info.frame}`, w * 0.08, h * 0.68);
  },
};
