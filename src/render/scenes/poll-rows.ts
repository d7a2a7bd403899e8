// The poll scene's option rows: per option a key badge, the label (two lines when the row has
// room), votes and percentage, and the bar with a light sweeping along it. Only the bars move
// from frame to frame; the rest changes with the votes. So the rest is painted once per change
// into a layer (a canvas of the rows' area, at the same sub-pixel offset) and copied every frame
// after, and only the bars are drawn each frame: some 150 canvas calls a frame fewer, each with
// @napi-rs/canvas's per-call cost (issue 14).
import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { FONT_SANS } from '../fonts.js';
import { roundRect, wrap } from './draw-kit.js';
import { MUTED } from './poll-parts.js';

const thousands = (n: number) => n.toLocaleString('en-US');

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

/** The reveal: `winners` glow (`pulse` 0..1) and the others fade by `dim` (0..1). */
export interface RowsReveal {
  winners: Set<string>;
  dim: number;
  pulse: number;
}

/** Where each part of a row goes: the rows share the height, so 2, 3 or 4 options fill the area. */
function geometry(L: RowsLayout, n: number) {
  const { u } = L;
  const rowH = (L.bottom - L.top) / Math.max(1, n);
  const blockH = Math.min(rowH - 16 * u, 170 * u);
  const barH = Math.round(Math.min(64 * u, Math.max(22 * u, blockH * 0.4)));
  const font = Math.round(Math.min(38 * u, Math.max(24 * u, blockH * 0.24)));
  const keyW = Math.min(blockH, 80 * u);
  const trackX = L.x + keyW + 22 * u;
  const trackW = L.x + L.width - trackX;
  const labelArea = blockH - barH - 10 * u;
  const maxLines = Math.max(1, Math.min(2, Math.floor(labelArea / (font * 1.2))));
  return { rowH, blockH, barH, font, keyW, trackX, trackW, labelArea, maxLines, rowY: (i: number) => L.top + i * rowH + (rowH - blockH) / 2 };
}
type Geometry = ReturnType<typeof geometry>;

const rowAlpha = (o: OptionRow, reveal?: RowsReveal) => (reveal && !reveal.winners.has(o.key) ? 1 - 0.6 * reveal.dim : 1);

/** What of the rows changes with the votes only: badges, texts and the bars' empty tracks. */
function paintStill(ctx: SKRSContext2D, rows: OptionRow[], L: RowsLayout, g: Geometry, reveal?: RowsReveal): void {
  const { u } = L;
  const { blockH, barH, font, keyW, trackX, trackW, labelArea, maxLines } = g;
  rows.forEach((o, i) => {
    const y = g.rowY(i);
    ctx.globalAlpha = rowAlpha(o, reveal);
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
    const firstY = y + (labelArea - maxLines * lineH) / 2 + lineH / 2;
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

    ctx.fillStyle = 'rgba(255, 255, 255, 0.08)';
    roundRect(ctx, trackX, y + blockH - barH, trackW, barH, barH / 2);
    ctx.fill();
  });
  ctx.globalAlpha = 1;
}

// One layer per place (stream size and layout), painted again in place when the votes change: a
// canvas per change would leave its native pixels to V8's next full GC, a few a second in a busy
// poll. A thread runs a few streams, so a few places.
const layers = new Map<string, { image: Canvas; x0: number; y0: number; content: string }>();

/** The still part of the rows: from the layer when it was painted with the same texts and fade. */
function drawStill(ctx: SKRSContext2D, rows: OptionRow[], L: RowsLayout, g: Geometry, reveal: RowsReveal | undefined, cached: boolean): void {
  // While the losers fade (the reveal's first 600 ms) every frame differs: drawn directly.
  if (!cached || (reveal && reveal.dim < 1)) return paintStill(ctx, rows, L, g, reveal);
  const place = JSON.stringify(L);
  let layer = layers.get(place);
  if (!layer) {
    const x0 = Math.floor(L.x);
    const y0 = Math.floor(L.top);
    layer = { image: createCanvas(Math.ceil(L.x + L.width) - x0 + 1, Math.ceil(L.bottom) - y0 + 1), x0, y0, content: '' };
    if (layers.size >= 4) layers.delete(layers.keys().next().value!);
    layers.set(place, layer);
  }
  const content = JSON.stringify(rows.map((o) => [o.key, o.label, o.votes, o.percent, o.colour, rowAlpha(o, reveal)]));
  if (layer.content !== content) {
    const lctx = layer.image.getContext('2d');
    lctx.setTransform(1, 0, 0, 1, 0, 0);
    lctx.clearRect(0, 0, layer.image.width, layer.image.height);
    lctx.translate(-layer.x0, -layer.y0);
    paintStill(lctx, rows, L, g, reveal);
    layer.content = content;
  }
  ctx.drawImage(layer.image, layer.x0, layer.y0);
}

/**
 * The rows (see the top of this file). The light along the bars is an optional effect (not when
 * `effects` is false). In the reveal, the winners' rows are outlined, pulsing, and the others fade.
 * `cached` false paints the still part directly (what the layer holds; for tests).
 */
export function drawRows(ctx: SKRSContext2D, rows: OptionRow[], L: RowsLayout, t: number, reveal?: RowsReveal, effects = true, cached = true): void {
  const { u } = L;
  const g = geometry(L, rows.length);
  const { blockH, barH, trackX, trackW } = g;
  rows.forEach((o, i) => {
    if (!reveal?.winners.has(o.key)) return;
    ctx.strokeStyle = o.colour;
    ctx.lineWidth = 4 * u;
    ctx.globalAlpha = 0.5 + 0.5 * reveal.pulse;
    roundRect(ctx, L.x - 10 * u, g.rowY(i) - 8 * u, L.width + 20 * u, blockH + 16 * u, 14 * u);
    ctx.stroke();
  });
  ctx.globalAlpha = 1;
  drawStill(ctx, rows, L, g, reveal, cached);
  rows.forEach((o, i) => {
    const share = Math.min(1, Math.max(0, o.share));
    if (share <= 0.001) return;
    const barY = g.rowY(i) + blockH - barH;
    const fillW = Math.max(barH, trackW * share);
    ctx.globalAlpha = rowAlpha(o, reveal);
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
  });
  ctx.globalAlpha = 1;
}
