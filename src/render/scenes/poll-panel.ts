// The vote panel of the poll scene: the QR code of the vote address on a white card, "SCAN TO
// VOTE" and the address. It changes with the address and the size only, and drawing it costs a
// path of some 300 rectangles and two texts (~0.5 ms a frame at 1280×720, issue 14): it is drawn
// once into a canvas of its own, at the same sub-pixel offset, and copied every frame after.
import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { FONT_MONO, FONT_SANS } from '../fonts.js';
import { drawQr, fitText, roundRect, type QrMatrix } from './draw-kit.js';

/** The way to vote: a QR code of the address on a white card, "SCAN TO VOTE" and the address itself. */
export function paintVotePanel(ctx: SKRSContext2D, qr: QrMatrix, url: string, x: number, y: number, width: number, u: number): void {
  ctx.fillStyle = '#ffffff';
  roundRect(ctx, x, y, width, width + 84 * u, 16 * u);
  ctx.fill();
  drawQr(ctx, qr, x + 8 * u, y + 8 * u, width - 16 * u);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#0b1020';
  ctx.font = `bold ${Math.round(24 * u)}px "${FONT_SANS}"`;
  ctx.fillText('SCAN TO VOTE', x + width / 2, y + width + 18 * u);
  const shown = url.replace(/^https?:\/\//, '');
  let size = 20 * u;
  ctx.font = `bold ${Math.round(size)}px "${FONT_MONO}"`;
  while (size > 12 * u && ctx.measureText(shown).width > width - 20 * u) {
    size -= 1 * u;
    ctx.font = `bold ${Math.round(size)}px "${FONT_MONO}"`;
  }
  const lines = ctx.measureText(shown).width > width - 20 * u ? [shown.slice(0, Math.ceil(shown.length / 2)), shown.slice(Math.ceil(shown.length / 2))] : [shown];
  lines.forEach((l, i) => ctx.fillText(fitText(ctx, l, width - 20 * u), x + width / 2, y + width + (lines.length > 1 ? 46 + i * 22 : 54) * u));
  ctx.textAlign = 'left';
}


const panels = new Map<string, { image: Canvas; x0: number; y0: number }>();

/** Draws the vote panel at (x, y), `width` wide: from the cache when it was drawn before at the same size and offset. */
export function drawVotePanel(ctx: SKRSContext2D, qr: QrMatrix, url: string, x: number, y: number, width: number, u: number): void {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const key = `${url} ${x} ${y} ${width} ${u} ${qr.size}`;
  let p = panels.get(key);
  if (!p) {
    const image = createCanvas(Math.ceil(x + width) - x0 + 1, Math.ceil(y + width + 84 * u) - y0 + 1);
    paintVotePanel(image.getContext('2d'), qr, url, x - x0, y - y0, width, u);
    if (panels.size >= 4) panels.delete(panels.keys().next().value!);
    p = { image, x0, y0 };
    panels.set(key, p);
  }
  ctx.drawImage(p.image, p.x0, p.y0);
}
