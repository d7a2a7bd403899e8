// The pieces of the poll scene, each a pure drawing of (context, layout, time, data): the moving
// background, the result banner and the confetti (the option rows are poll-rows.ts, the vote
// panel poll-panel.ts). poll.ts lays them out.
import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { FONT_SANS } from '../fonts.js';
import { easeOut, fitText, roundRect } from './draw-kit.js';

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
// A thread renders one stream, so a handful of entries is plenty. The image is opaque
// (alpha: false): Skia then copies it instead of blending it over what is there, the same pixels
// for ~0.3 ms a frame less (1.68 -> 1.40 ms for the poll scene's draw and raster, issue 14).
const gradients = new Map<string, Canvas | null>();

function gradientImage(w: number, h: number, c0: string, c1: string): Canvas | null {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0) return null;
  const key = `${w}x${h} ${c0} ${c1}`;
  let image = gradients.get(key);
  if (image !== undefined) return image;
  image = createCanvas(w, h);
  fillGradient(image.getContext('2d', { alpha: false }), w, h, c0, c1);
  if (gradients.size >= 4) gradients.delete(gradients.keys().next().value!);
  gradients.set(key, image);
  return image;
}

/**
 * The gradient and two slashes of colour drifting across it: the picture is never still, even
 * with no bar to light (by freezedetect's -60 dB over 1.5 s, on air at x264's QP floor). The
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
  // Each slash drifts left to right at a steady speed (a fraction of the width a second, so every
  // frame size looks alike) and repeats every frame width: as one copy leaves on the right the
  // next comes in on the left, so every row always holds one of each, moving. No turning point
  // where it would slow to a standstill, no moment with a slash off screen. A copy at x runs from
  // (x, 0)-(x + width, 0) to 0.3 w further left at the bottom: visible for x in (-width, 1.3 w).
  const slash = (width: number, speed: number, offset: number, alpha: number) => {
    const x0 = (((offset + (t / 1000) * speed) % 1) + 1) % 1 * w;
    ctx.globalAlpha = alpha;
    ctx.beginPath();
    for (let x = x0 - w; x < 1.3 * w; x += w) {
      if (x + width <= 0) continue;
      ctx.moveTo(x, 0);
      ctx.lineTo(x + width, 0);
      ctx.lineTo(x + width - w * 0.3, h);
      ctx.lineTo(x - w * 0.3, h);
      ctx.closePath();
    }
    ctx.fill();
  };
  ctx.fillStyle = theme.accent;
  slash(w * 0.18, 0.025, 0.62, 0.1);
  slash(w * 0.06, 0.017, 0.9, 0.08);
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
