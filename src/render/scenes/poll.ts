// The live poll: question, one bar per option easing towards its share, percentages and
// counts, the total, and a countdown when the poll has an end time. Drawing is a pure
// function of (frame, data); the poll is handed in from outside (in a worker, the main
// thread's live poll view posts it to the stream's render thread) and the scene's state eases
// the bars once per frame.
import type { SKRSContext2D } from '@napi-rs/canvas';
import type { FrameInfo, Scene, SceneState } from '../scene.js';
import { FONT_MONO, FONT_SANS } from '../fonts.js';

/** The poll as this scene draws it (the polls domain's PollView has this shape, and more). */
export interface PollScenePoll {
  id: number;
  question: string;
  options: readonly { key: string; label: string; votes: number; percent: number }[];
  total: number;
  endsAt: string | null;
  /** Issue 12: a chat bridge is connected (votes by typing !A … in the platform's chat). */
  chat?: { platform: string; channel: string } | null;
}

export interface PollSceneData {
  poll: PollScenePoll | null;
  /** What each bar shows now, 0..1 of the full width (eases towards the option's share). */
  shown: number[];
}

export const OPTION_COLOURS = ['#e63946', '#3a86ff', '#ffb703', '#2ec4b6'];

/** Target shares (0..1) of each option. */
export function shares(poll: PollScenePoll | null): number[] {
  if (!poll) return [];
  return poll.options.map((o) => (poll.total > 0 ? o.votes / poll.total : 0));
}

/** Frame-rate independent easing: covers 1 - e^(-dt/tau) of the remaining distance. */
export function easeTowards(shown: number[], target: number[], dtMs: number, tauMs = 250): number[] {
  const k = 1 - Math.exp(-Math.max(0, dtMs) / tauMs);
  return target.map((t, i) => {
    const s = shown[i] ?? 0;
    const next = s + (t - s) * k;
    return Math.abs(t - next) < 0.0005 ? t : next;
  });
}

/** "1:05" for 65 s; "0:00" once over. */
export function countdownText(msLeft: number): string {
  const s = Math.max(0, Math.ceil(msLeft / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const thousands = (n: number) => n.toLocaleString('en-US');

/** Splits text into at most `maxLines` lines that fit `width` (the last one ellipsised). */
function wrap(ctx: SKRSContext2D, text: string, width: number, maxLines: number): string[] {
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
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let last = `${kept[maxLines - 1]} ${lines.slice(maxLines).join(' ')}`;
  while (last.length > 1 && ctx.measureText(`${last}…`).width > width) last = last.slice(0, -1);
  kept[maxLines - 1] = `${last.trimEnd()}…`;
  return kept;
}

function fitText(ctx: SKRSContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > width) t = t.slice(0, -1);
  return `${t.trimEnd()}…`;
}

function roundRect(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, r: number): void {
  const rr = Math.max(0, Math.min(r, h / 2, w / 2));
  ctx.beginPath();
  ctx.moveTo(x + rr, y);
  ctx.arcTo(x + w, y, x + w, y + h, rr);
  ctx.arcTo(x + w, y + h, x, y + h, rr);
  ctx.arcTo(x, y + h, x, y, rr);
  ctx.arcTo(x, y, x + w, y, rr);
  ctx.closePath();
}

export function drawPoll(ctx: SKRSContext2D, info: FrameInfo, data: PollSceneData): void {
  const { width: w, height: h } = info;
  const u = h / 720; // layout unit: designed at 1280x720
  const pad = Math.round(56 * u);

  const bg = ctx.createLinearGradient(0, 0, w, h);
  bg.addColorStop(0, '#0b1020');
  bg.addColorStop(1, '#1c1330');
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, w, h);
  // A diagonal slash of colour: the fighting-game look.
  ctx.fillStyle = 'rgba(230, 57, 70, 0.10)';
  ctx.beginPath();
  ctx.moveTo(w * 0.62, 0);
  ctx.lineTo(w * 0.8, 0);
  ctx.lineTo(w * 0.5, h);
  ctx.lineTo(w * 0.32, h);
  ctx.closePath();
  ctx.fill();

  // Header: LIVE POLL badge, brand, countdown.
  ctx.textBaseline = 'middle';
  const headY = Math.round(48 * u);
  ctx.font = `bold ${Math.round(22 * u)}px "${FONT_SANS}"`;
  const badge = 'LIVE POLL';
  const bw = ctx.measureText(badge).width + 36 * u;
  ctx.fillStyle = '#e63946';
  roundRect(ctx, pad, headY - 20 * u, bw, 40 * u, 8 * u);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.fillText(badge, pad + 18 * u, headY + 1 * u);
  ctx.fillStyle = '#8b93a7';
  ctx.font = `bold ${Math.round(22 * u)}px "${FONT_SANS}"`;
  ctx.fillText('STREAM FIGHTER', pad + bw + 20 * u, headY + 1 * u);

  const poll = data.poll;
  if (poll?.endsAt) {
    const left = Date.parse(poll.endsAt) - info.timeMs;
    const text = left > 0 ? countdownText(left) : 'VOTING CLOSED';
    ctx.font = `bold ${Math.round(34 * u)}px "${FONT_MONO}"`;
    ctx.textAlign = 'right';
    ctx.fillStyle = left > 0 && left <= 10_000 ? '#ffb703' : '#ffffff';
    ctx.fillText(text, w - pad, headY + 2 * u);
    ctx.textAlign = 'left';
  }

  if (!poll) {
    ctx.fillStyle = '#ffffff';
    ctx.font = `bold ${Math.round(48 * u)}px "${FONT_SANS}"`;
    ctx.textAlign = 'center';
    ctx.fillText('Waiting for the next poll…', w / 2, h / 2);
    ctx.textAlign = 'left';
    return;
  }

  // Question: up to two lines, smaller type if it needs them.
  ctx.fillStyle = '#ffffff';
  let size = 52 * u;
  ctx.font = `bold ${Math.round(size)}px "${FONT_SANS}"`;
  let lines = wrap(ctx, poll.question, w - 2 * pad, 2);
  if (lines.length > 1) {
    size = 42 * u;
    ctx.font = `bold ${Math.round(size)}px "${FONT_SANS}"`;
    lines = wrap(ctx, poll.question, w - 2 * pad, 2);
  }
  const qTop = 120 * u;
  lines.forEach((l, i) => ctx.fillText(l, pad, qTop + size * 0.6 + i * size * 1.15));

  // One row per option: key badge on the left; label, count and percentage above the bar.
  const n = poll.options.length;
  const top = qTop + (lines.length > 1 ? 128 : 96) * u;
  const bottom = h - 86 * u;
  const rowH = Math.min(112 * u, (bottom - top) / n);
  const blockH = Math.min(76 * u, rowH * 0.8);
  const barH = Math.round(blockH * 0.48);
  const keyW = 60 * u;
  const trackX = pad + keyW + 22 * u;
  const trackW = w - trackX - pad;
  poll.options.forEach((o, i) => {
    const colour = OPTION_COLOURS[i % OPTION_COLOURS.length];
    const y = top + i * rowH;
    ctx.fillStyle = colour;
    roundRect(ctx, pad, y, keyW, blockH, 10 * u);
    ctx.fill();
    ctx.fillStyle = '#0b1020';
    ctx.font = `bold ${Math.round(34 * u)}px "${FONT_SANS}"`;
    ctx.textAlign = 'center';
    ctx.fillText(o.key, pad + keyW / 2, y + blockH / 2 + 1 * u);

    const labelY = y + (blockH - barH) / 2 - 2 * u;
    ctx.textAlign = 'right';
    ctx.font = `bold ${Math.round(28 * u)}px "${FONT_SANS}"`;
    ctx.fillStyle = '#ffffff';
    const pct = `${o.percent}%`;
    const pctW = ctx.measureText(pct).width;
    ctx.fillText(pct, w - pad, labelY);
    ctx.font = `${Math.round(22 * u)}px "${FONT_SANS}"`;
    ctx.fillStyle = '#8b93a7';
    const count = `${thousands(o.votes)} ${o.votes === 1 ? 'vote' : 'votes'}`;
    const countW = ctx.measureText(count).width;
    ctx.fillText(count, w - pad - pctW - 16 * u, labelY + 2 * u);
    ctx.textAlign = 'left';
    ctx.font = `bold ${Math.round(28 * u)}px "${FONT_SANS}"`;
    ctx.fillStyle = '#ffffff';
    ctx.fillText(fitText(ctx, o.label, trackW - pctW - countW - 48 * u), trackX, labelY);

    const barY = y + blockH - barH;
    ctx.fillStyle = 'rgba(255, 255, 255, 0.08)';
    roundRect(ctx, trackX, barY, trackW, barH, barH / 2);
    ctx.fill();
    const share = Math.min(1, Math.max(0, data.shown[i] ?? 0));
    if (share > 0.001) {
      const fillW = Math.max(barH, trackW * share);
      const grad = ctx.createLinearGradient(trackX, 0, trackX + fillW, 0);
      grad.addColorStop(0, colour);
      grad.addColorStop(1, `${colour}bb`);
      ctx.fillStyle = grad;
      roundRect(ctx, trackX, barY, fillW, barH, barH / 2);
      ctx.fill();
    }
  });

  // Footer: total and how to vote.
  const footY = h - 46 * u;
  ctx.font = `bold ${Math.round(26 * u)}px "${FONT_SANS}"`;
  ctx.fillStyle = '#ffffff';
  ctx.fillText(`${thousands(poll.total)} ${poll.total === 1 ? 'vote' : 'votes'}`, pad, footY);
  ctx.font = `${Math.round(22 * u)}px "${FONT_SANS}"`;
  ctx.fillStyle = '#8b93a7';
  ctx.textAlign = 'right';
  ctx.fillText(`Vote now at /vote  ·  poll #${poll.id}`, w - pad, footY);
  // Issue 12 (chat votes): one line above the footer while a chat bridge is connected.
  if (poll.chat) {
    const cmds = poll.options.map((o) => `!${o.key}`).join(' ');
    ctx.font = `bold ${Math.round(22 * u)}px "${FONT_SANS}"`;
    ctx.fillStyle = '#bf94ff'; // Twitch purple
    ctx.fillText(fitText(ctx, `Type ${cmds} in ${poll.chat.platform === 'twitch' ? 'Twitch' : poll.chat.platform} chat · #${poll.chat.channel}`, w / 2), w - pad, footY - 32 * u);
  }
  ctx.textAlign = 'left';
}

/**
 * A stream's poll state: takes the poll handed in (whenever it changes) and eases the bars
 * towards their shares once per frame; a new poll's bars grow from zero.
 */
export function pollSceneState(opts: { tauMs?: number } = {}): SceneState<PollScenePoll | null, PollSceneData> {
  let poll: PollScenePoll | null = null;
  let shown: number[] = [];
  let lastMs: number | null = null;
  return {
    set(next) {
      if (next && (!poll || next.id !== poll.id)) shown = next.options.map(() => 0);
      poll = next ?? null;
    },
    frame(timeMs) {
      shown = easeTowards(shown, shares(poll), lastMs === null ? 0 : timeMs - lastMs, opts.tauMs);
      lastMs = timeMs;
      return { poll, shown };
    },
  };
}

export function createPollScene(opts: { tauMs?: number } = {}): Scene<PollSceneData, PollScenePoll | null> {
  return {
    id: 'poll',
    description: 'The live poll: question, animated vote bars with percentages and counts, total, countdown',
    draw: drawPoll,
    state: () => pollSceneState(opts),
  };
}

export const pollScene = createPollScene();
