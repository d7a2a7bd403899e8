// A broadcast test card: colour bars, the stream key's fingerprint (never the key: the card
// goes on air), a running clock and the frame number.
import type { Scene } from '../scene.js';
import { FONT_MONO, FONT_SANS } from '../fonts.js';
import { createHash } from 'node:crypto';

/** What the card shows of the key: 4 hex digits of its SHA-256 (src/redact.ts fingerprint). */
export const keyFingerprint = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 4);

const BARS = ['#c0c0c0', '#c0c000', '#00c0c0', '#00c000', '#c000c0', '#c00000', '#0000c0'];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function clockText(timeMs: number): string {
  const d = new Date(timeMs);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} UTC`;
}

export function uptimeText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

export const testcard: Scene = {
  id: 'testcard',
  description: "Colour bars with the stream key's fingerprint, a running clock and the frame number",
  draw(ctx, info) {
    const { width: w, height: h } = info;
    const barH = Math.round(h * 0.62);
    const barW = w / BARS.length;
    BARS.forEach((c, i) => {
      ctx.fillStyle = c;
      ctx.fillRect(Math.floor(i * barW), 0, Math.ceil(barW), barH);
    });
    ctx.fillStyle = '#101418';
    ctx.fillRect(0, barH, w, h - barH);

    // A sweeping marker makes motion visible (and frozen frames obvious).
    const x = ((info.frame % (info.fps * 4)) / (info.fps * 4)) * w;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(Math.floor(x), barH - Math.max(4, h / 90), Math.max(4, w / 80), Math.max(4, h / 90));

    const unit = h / 18;
    ctx.fillStyle = '#ffffff';
    ctx.textBaseline = 'middle';
    ctx.font = `bold ${Math.round(unit * 1.3)}px "${FONT_SANS}"`;
    ctx.fillText('STREAM FIGHTER', unit, barH + unit * 1.3);
    ctx.font = `${Math.round(unit * 1.2)}px "${FONT_MONO}"`;
    ctx.fillText(clockText(info.timeMs), unit, barH + unit * 3);
    ctx.font = `${Math.round(unit * 0.8)}px "${FONT_MONO}"`;
    ctx.fillStyle = '#9fb3c8';
    ctx.fillText(
      `key #${keyFingerprint(info.streamKey)}   frame ${info.frame}   up ${uptimeText(info.timeMs - info.startedMs)}   ${info.fps} fps`,
      unit,
      barH + unit * 4.6,
    );
  },
};
