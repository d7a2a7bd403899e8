// Small drawing helpers the scenes share: text that fits, rounded rectangles, a QR code as
// rectangles. Pure functions of the context and their arguments.
import type { SKRSContext2D } from '@napi-rs/canvas';

/** Splits text into at most `maxLines` lines that fit `width` (the last one ellipsised; long words cut). */
export function wrap(ctx: SKRSContext2D, text: string, width: number, maxLines: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const candidate = line ? `${line} ${w}` : w;
    if (ctx.measureText(candidate).width <= width || !line) line = candidate;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines.map((l) => fitText(ctx, l, width));
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = fitText(ctx, `${kept[maxLines - 1]} ${lines.slice(maxLines).join(' ')}`, width, true);
  return kept.map((l) => fitText(ctx, l, width));
}

/** The text, cut with an ellipsis to fit `width` (always when `force`: more text follows). */
export function fitText(ctx: SKRSContext2D, text: string, width: number, force = false): string {
  if (!force && ctx.measureText(text).width <= width) return text;
  let lo = 0;
  let hi = text.length;
  // Binary search on the cut: long labels would otherwise cost a measure per character.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ctx.measureText(`${text.slice(0, mid).trimEnd()}…`).width <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo).trimEnd()}…`;
}

export function roundRect(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, r: number): void {
  const rr = Math.max(0, Math.min(r, h / 2, w / 2));
  ctx.beginPath();
  ctx.moveTo(x + rr, y);
  ctx.arcTo(x + w, y, x + w, y + h, rr);
  ctx.arcTo(x + w, y + h, x, y + h, rr);
  ctx.arcTo(x, y + h, x, y, rr);
  ctx.arcTo(x, y, x + w, y, rr);
  ctx.closePath();
}

/** A QR code's dark modules, row by row (`size` × `size`, 1 = dark). */
export interface QrMatrix {
  size: number;
  data: Uint8Array | number[];
}

/**
 * Draws a QR code on a white square of `box` pixels with a quiet zone of 4 modules, whole
 * pixels per module (scanners like sharp edges). Each row's runs of dark modules are one
 * rectangle, all filled at once. Returns the side actually used.
 */
export function drawQr(ctx: SKRSContext2D, qr: QrMatrix, x: number, y: number, box: number): number {
  const modules = qr.size + 8;
  const px = Math.max(1, Math.floor(box / modules));
  const side = px * modules;
  const ox = Math.round(x + (box - side) / 2);
  const oy = Math.round(y + (box - side) / 2);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(ox, oy, side, side);
  ctx.fillStyle = '#000000';
  ctx.beginPath();
  for (let r = 0; r < qr.size; r++) {
    let c = 0;
    while (c < qr.size) {
      if (!qr.data[r * qr.size + c]) {
        c++;
        continue;
      }
      const start = c;
      while (c < qr.size && qr.data[r * qr.size + c]) c++;
      ctx.rect(ox + (start + 4) * px, oy + (r + 4) * px, (c - start) * px, px);
    }
  }
  ctx.fill();
  return side;
}

/** Ease-out cubic on 0..1 (clamped). */
export function easeOut(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return 1 - (1 - c) ** 3;
}
