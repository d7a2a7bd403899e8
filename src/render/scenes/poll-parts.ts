// The pieces of the poll scene, each a pure drawing of (context, layout, time, data): the moving
// background, the option rows (bars, and the winner's highlight in the reveal), the result
// banner and the confetti (the vote panel is poll-panel.ts). poll.ts lays them out.
import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { FONT_SANS } from '../fonts.js';
import { easeOut, fitText, roundRect, wrap } from './draw-kit.js';

export interface Theme {
  brand: string;
  /** One or two colours: the background gradient. */
  background: string[];
  accent: string;
  optionColours: string[];
}

export const DEFAULT_THEME: Theme = {
  brand: 'STREAM FIGHTER',
  background: ['#0b1020', '#1c1330'],
  accent: '#e63946',
  optionColours: ['#e63946', '#3a86ff', '#ffb703', '#2ec4b6'],
};

export const MUTED = '#8b93a7';
const thousands = (n: number) => n.toLocaleString('en-US');

/** The full-frame diagonal gradient, drawn directly (what the cached image holds). */
function fillGradient(ctx: SKRSContext2D, w: number, h: number, c0: string, c1: string): void {
  const bg = ctx.createLinearGradient(0, 0, w, h);
  bg.addColorStop(0, c0);
  bg.addColorStop(1, c1);
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, w, h);
}

// The gradient never changes for a size and theme, and shading it costs ~1.5 ms a frame at
// 1280×720 where blitting the same pixels costs ~0.3 ms (issue 14): it is shaded once into a
// canvas of its own and copied every frame after. The canvas itself is the source: going through
// a PNG (encode and decode) gave the same pixels but cost 60-190 ms on a stream's first frame.
// A thread renders one stream, so a handful of entries is plenty.
const gradients = new Map<string, Canvas | null>();

function gradientImage(w: number, h: number, c0: string, c1: string): Canvas | null {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0) return null;
  const key = `${w}x${h} ${c0} ${c1}`;
  let image = gradients.get(key);
  if (image !== undefined) return image;
  image = createCanvas(w, h);
  fillGradient(image.getContext('2d'), w, h, c0, c1);
  if (gradients.size >= 4) gradients.delete(gradients.keys().next().value!);
  gradients.set(key, image);
  return image;
}

/**
 * The gradient and two slashes of colour that sway slowly: the picture is never still. The
 * slashes are an optional effect (`effects` false: the gradient alone): two translucent fills
 * across the frame, blended pixel by pixel.
 */
export function drawBackground(ctx: SKRSContext2D, w: number, h: number, t: number, theme: Theme, effects = true): void {
  const [c0, c1 = c0] = theme.background;
  const image = gradientImage(w, h, c0, c1);
  // The image covers (0,0)-(w,h) in user space, exactly as the gradient's fillRect would.
  if (image) ctx.drawImage(image, 0, 0, w, h);
  else fillGradient(ctx, w, h, c0, c1);
  if (!effects) return;
  const slash = (x: number, width: number, alpha: number) => {
    ctx.globalAlpha = alpha;
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x + width, 0);
    ctx.lineTo(x + width - w * 0.3, h);
    ctx.lineTo(x - w * 0.3, h);
    ctx.closePath();
    ctx.fill();
  };
  ctx.fillStyle = theme.accent;
  slash(w * (0.62 + 0.06 * Math.sin(t / 3100)), w * 0.18, 0.1);
  slash(w * (0.9 + 0.05 * Math.sin(t / 4700 + 1)), w * 0.06, 0.08);
  ctx.globalAlpha = 1;
}

export interface OptionRow {
  key: string;
  label: string;
  votes: number;
  percent: number;
  share: number;
  colour: string;
}

export interface RowsLayout {
  x: number;
  width: number;
  top: number;
  bottom: number;
  u: number;
}

/**
 * One row per option, sharing the height between them so 2, 3 or 4 options fill the area: a key
 * badge, the label (two lines when the row has room), votes and percentage, and the bar with a
 * light sweeping along it (an optional effect: not when `effects` is false). In the reveal,
 * `winners` glow and the others fade by `dim` (0..1).
 */
export function drawRows(ctx: SKRSContext2D, rows: OptionRow[], L: RowsLayout, t: number, reveal?: { winners: Set<string>; dim: number; pulse: number }, effects = true): void {
  const { u } = L;
  const rowH = (L.bottom - L.top) / Math.max(1, rows.length);
  const blockH = Math.min(rowH - 16 * u, 170 * u);
  const barH = Math.round(Math.min(64 * u, Math.max(22 * u, blockH * 0.4)));
  const font = Math.round(Math.min(38 * u, Math.max(24 * u, blockH * 0.24)));
  const keyW = Math.min(blockH, 80 * u);
  const trackX = L.x + keyW + 22 * u;
  const trackW = L.x + L.width - trackX;
  const labelArea = blockH - barH - 10 * u;
  const maxLines = Math.max(1, Math.min(2, Math.floor(labelArea / (font * 1.2))));
  rows.forEach((o, i) => {
    const y = L.top + i * rowH + (rowH - blockH) / 2;
    const won = reveal?.winners.has(o.key);
    ctx.globalAlpha = reveal && !won ? 1 - 0.6 * reveal.dim : 1;
    if (won) {
      ctx.strokeStyle = o.colour;
      ctx.lineWidth = 4 * u;
      ctx.globalAlpha = 0.5 + 0.5 * reveal!.pulse;
      roundRect(ctx, L.x - 10 * u, y - 8 * u, L.width + 20 * u, blockH + 16 * u, 14 * u);
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    ctx.fillStyle = o.colour;
    roundRect(ctx, L.x, y + (blockH - keyW) / 2, keyW, keyW, 10 * u);
    ctx.fill();
    ctx.fillStyle = '#0b1020';
    ctx.font = `bold ${Math.round(keyW * 0.45)}px "${FONT_SANS}"`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(o.key, L.x + keyW / 2, y + blockH / 2 + 1 * u);

    // Votes and percentage on the first label line, right-aligned.
    const lineH = font * 1.15;
    const labelTop = y + (labelArea - maxLines * lineH) / 2;
    const firstY = labelTop + lineH / 2;
    ctx.textAlign = 'right';
    ctx.font = `bold ${font}px "${FONT_SANS}"`;
    ctx.fillStyle = '#ffffff';
    const pct = `${o.percent}%`;
    const pctW = ctx.measureText(pct).width;
    ctx.fillText(pct, trackX + trackW, firstY);
    ctx.font = `${Math.round(font * 0.78)}px "${FONT_SANS}"`;
    ctx.fillStyle = MUTED;
    const count = `${thousands(o.votes)} ${o.votes === 1 ? 'vote' : 'votes'}`;
    const countW = ctx.measureText(count).width;
    ctx.fillText(count, trackX + trackW - pctW - 14 * u, firstY + 2 * u);
    ctx.textAlign = 'left';
    ctx.font = `bold ${font}px "${FONT_SANS}"`;
    ctx.fillStyle = '#ffffff';
    const lines = wrap(ctx, o.label, trackW - pctW - countW - 40 * u, maxLines);
    lines.forEach((l, k) => ctx.fillText(l, trackX, firstY + k * lineH));

    const barY = y + blockH - barH;
    ctx.fillStyle = 'rgba(255, 255, 255, 0.08)';
    roundRect(ctx, trackX, barY, trackW, barH, barH / 2);
    ctx.fill();
    const share = Math.min(1, Math.max(0, o.share));
    if (share > 0.001) {
      const fillW = Math.max(barH, trackW * share);
      ctx.fillStyle = o.colour;
      roundRect(ctx, trackX, barY, fillW, barH, barH / 2);
      ctx.fill();
      if (!effects) return;
      // A soft light runs along the bar every few seconds, each bar a little after the last.
      const phase = ((t / 2600 + i * 0.18) % 1.4) - 0.2;
      const sx = trackX + phase * fillW;
      const gloss = ctx.createLinearGradient(sx - 60 * u, 0, sx + 60 * u, 0);
      gloss.addColorStop(0, 'rgba(255,255,255,0)');
      gloss.addColorStop(0.5, 'rgba(255,255,255,0.28)');
      gloss.addColorStop(1, 'rgba(255,255,255,0)');
      ctx.fillStyle = gloss;
      roundRect(ctx, trackX, barY, fillW, barH, barH / 2);
      ctx.fill();
    }
  });
  ctx.globalAlpha = 1;
}

/** The result, sliding in: the winner (or a tie, or no votes) with its share. */
export function drawResultBanner(
  ctx: SKRSContext2D,
  x: number,
  y: number,
  width: number,
  height: number,
  u: number,
  since: number,
  text: { title: string; name: string; detail: string; colour: string },
): void {
  const k = easeOut(since / 700);
  ctx.save();
  ctx.translate(-(1 - k) * (width + x), 0);
  ctx.fillStyle = text.colour;
  roundRect(ctx, x, y, width, height, 14 * u);
  ctx.fill();
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#0b1020';
  ctx.font = `bold ${Math.round(24 * u)}px "${FONT_SANS}"`;
  ctx.fillText(text.title, x + 22 * u, y + height / 2);
  const titleW = ctx.measureText(text.title).width;
  ctx.textAlign = 'right';
  ctx.font = `bold ${Math.round(26 * u)}px "${FONT_SANS}"`;
  ctx.fillText(text.detail, x + width - 22 * u, y + height / 2);
  const detailW = ctx.measureText(text.detail).width;
  ctx.textAlign = 'left';
  ctx.font = `bold ${Math.round(Math.min(40 * u, height * 0.6))}px "${FONT_SANS}"`;
  ctx.fillText(fitText(ctx, text.name, width - titleW - detailW - 90 * u), x + titleW + 44 * u, y + height / 2 + 1 * u);
  ctx.restore();
}

/** Paper confetti falling during the reveal: positions from the time only, one fill per colour. */
export function drawConfetti(ctx: SKRSContext2D, w: number, h: number, u: number, since: number, colours: string[]): void {
  const n = 36;
  colours.forEach((colour, c) => {
    ctx.fillStyle = colour;
    ctx.beginPath();
    for (let i = c; i < n; i += colours.length) {
      const r1 = ((i * 7919) % 997) / 997;
      const r2 = ((i * 104729) % 991) / 991;
      const speed = (120 + 140 * r2) * u;
      const y = ((r1 * h * 0.5 + (since / 1000) * speed) % (h + 40 * u)) - 20 * u;
      const x = (r2 * w + 30 * u * Math.sin(since / 600 + i)) % w;
      const flip = Math.abs(Math.cos(since / 250 + i));
      ctx.rect(x, y, 9 * u, Math.max(1, 16 * u * flip));
    }
    ctx.fill();
  });
}
