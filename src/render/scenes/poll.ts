// The live poll show: question, one bar per option easing towards its share, percentages and
// counts, the total, the countdown, "voting closed", the winner revealed, and (with a public
// address) a QR code to vote. Drawing is a pure function of (frame, data): the phase, the
// countdown and every motion come from the frame's time, so the picture moves with nobody
// voting. The poll is handed in from outside (in a worker, the main thread's live poll view
// posts it to the stream's render thread); the scene's state eases the bars once per frame and
// keeps what is derived once per change (the QR matrix, the logo).
import fs from 'node:fs';
import { Image, type SKRSContext2D } from '@napi-rs/canvas';
import QRCode from 'qrcode';
import type { FrameInfo, Scene, SceneState } from '../scene.js';
import { FONT_MONO, FONT_SANS } from '../fonts.js';
import { fitText, roundRect, type QrMatrix } from './draw-kit.js';
import { drainShare, headerState, layoutPoll, revealStyle, soonDots, type PollLayout } from './poll-layout.js';
import type { PollSceneData, PollSceneInput, PollScenePoll } from './poll-types.js';
import { DEFAULT_THEME, MUTED, drawBackground, drawConfetti, drawResultBanner, type Theme } from './poll-parts.js';
import { drawRows } from './poll-rows.js';
import { drawVotePanel } from './poll-panel.js';

export type { PollScenePoll, PollSceneShow, PollSceneInput, PollSceneData } from './poll-types.js';
export { countdownText } from './poll-layout.js';

export const OPTION_COLOURS = DEFAULT_THEME.optionColours;

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

/** The QR matrix of a text (error correction M: a phone reads it across a room). */
export function qrMatrix(text: string): QrMatrix {
  const m = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  return { size: m.size, data: m.data };
}

/** Header: badge (what is happening), brand or logo, the clock, and the big countdown on the right. */
function drawHeader(ctx: SKRSContext2D, L: PollLayout, data: PollSceneData, t: number): void {
  const { u, pad, headY, theme, badge, right } = L;
  ctx.textBaseline = 'middle';
  ctx.font = `bold ${Math.round(22 * u)}px "${FONT_SANS}"`;
  const bw = ctx.measureText(badge).width + 36 * u;
  ctx.fillStyle = theme.accent;
  roundRect(ctx, pad, headY - 20 * u, bw, 40 * u, 8 * u);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  ctx.fillText(badge, pad + 18 * u, headY + 1 * u);
  const logo = data.logo;
  if (logo && logo.width > 0 && logo.height > 0) {
    const lh = 44 * u;
    const lw = Math.min(220 * u, (logo.width / logo.height) * lh);
    ctx.drawImage(logo, pad + bw + 20 * u, headY - lh / 2, lw, (lw / logo.width) * logo.height);
  } else {
    ctx.fillStyle = MUTED;
    ctx.fillText(fitText(ctx, theme.brand, 360 * u), pad + bw + 20 * u, headY + 1 * u);
  }
  ctx.textAlign = 'right';
  let x = L.w - pad;
  const state = headerState(L, t);
  if (right) {
    ctx.font = `bold ${Math.round(34 * u)}px "${FONT_MONO}"`;
    // The last ten seconds: amber, and breathing.
    ctx.fillStyle = right.urgent ? '#ffb703' : '#ffffff';
    if (right.urgent) ctx.globalAlpha = state.alpha;
    ctx.fillText(right.text, x, headY + 2 * u);
    ctx.globalAlpha = 1;
    x -= ctx.measureText(right.text).width + 24 * u;
  }
  ctx.font = `${Math.round(20 * u)}px "${FONT_MONO}"`;
  ctx.fillStyle = MUTED;
  ctx.fillText(state.clock, x, headY + 2 * u);
  ctx.textAlign = 'left';
}

export function drawPoll(ctx: SKRSContext2D, info: FrameInfo, data: PollSceneData): void {
  const { width: w, height: h, timeMs: t } = info;
  const L = layoutPoll(ctx, info, data);
  const { u, pad, theme, phase, reveal, effects, contentR, footH } = L;
  const poll = data.poll;
  // Optional effects (shed when the worker is short of CPU): the background's slashes, the bars' light, the confetti.
  drawBackground(ctx, w, h, t, theme, effects);
  // Behind everything: confetti never covers the QR code or the text.
  if (effects && reveal !== null && poll?.winner) drawConfetti(ctx, w, h, u, reveal, theme.optionColours);
  drawHeader(ctx, L, data, t);

  if (!poll || !L.question || !L.rows) {
    ctx.fillStyle = '#ffffff';
    ctx.font = `bold ${Math.round(48 * u)}px "${FONT_SANS}"`;
    ctx.textAlign = 'center';
    ctx.fillText(`The next poll starts soon${soonDots(t)}`, w / 2, h / 2);
    ctx.textAlign = 'left';
    return;
  }

  // The time left, as a bar draining under the header.
  const frac = drainShare(poll, phase, t);
  if (frac !== null) {
    ctx.fillStyle = 'rgba(255,255,255,0.08)';
    ctx.fillRect(pad, 84 * u, w - 2 * pad, 4 * u);
    ctx.fillStyle = Date.parse(poll.endsAt!) - t <= 10_000 ? '#ffb703' : theme.accent;
    ctx.fillRect(pad, 84 * u, (w - 2 * pad) * frac, 4 * u);
  }

  // The vote panel takes the right-hand column; everything else the rest.
  if (L.panel) drawVotePanel(ctx, data.qr!, data.voteUrl!, L.panel.x, L.panel.y, L.panel.width, u);

  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'middle';
  const { size, lines, top: qTop } = L.question;
  ctx.font = `bold ${Math.round(size)}px "${FONT_SANS}"`;
  lines.forEach((l, i) => ctx.fillText(l, pad, qTop + size * 0.6 + i * size * 1.15));

  const winners = new Set(poll.winner?.keys ?? []);
  const rows = poll.options.map((o, i) => ({ ...o, share: data.shown[i] ?? 0, colour: theme.optionColours[i % theme.optionColours.length] }));
  drawRows(ctx, rows, L.rows, t, revealStyle(L, winners), effects);

  const footY = L.footY;
  if (reveal !== null) {
    const wv = poll.winner;
    const first = wv ? poll.options.findIndex((o) => o.key === wv.keys[0]) : -1;
    const pct = first >= 0 ? poll.options[first].percent : 0;
    const text = !wv
      ? { title: 'NO VOTES', name: 'Nobody voted this round', detail: '', colour: MUTED }
      : wv.tie
        ? { title: "IT'S A TIE", name: wv.labels.join(' · '), detail: `${wv.votes.toLocaleString('en-US')} votes each`, colour: '#ffffff' }
        : { title: 'WINNER', name: wv.labels[0], detail: `${pct}% · ${poll.total.toLocaleString('en-US')} votes`, colour: rows[first]?.colour ?? theme.accent };
    drawResultBanner(ctx, pad, h - footH - 6 * u, contentR - pad, footH - 8 * u, u, reveal, text);
    return;
  }
  ctx.textBaseline = 'middle';
  ctx.font = `bold ${Math.round(26 * u)}px "${FONT_SANS}"`;
  ctx.fillStyle = '#ffffff';
  ctx.fillText(`${poll.total.toLocaleString('en-US')} ${poll.total === 1 ? 'vote' : 'votes'}`, pad, footY);
  ctx.font = `${Math.round(22 * u)}px "${FONT_SANS}"`;
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'right';
  const note = phase === 'closed' ? 'Voting has closed: the winner in a moment' : `poll #${poll.id}`;
  ctx.fillText(note, contentR, footY);
  // A chat bridge is connected: one line above the footer (votes by typing !A … in chat).
  if (poll.chat) {
    const cmds = poll.options.map((o) => `!${o.key}`).join(' ');
    ctx.font = `bold ${Math.round(22 * u)}px "${FONT_SANS}"`;
    ctx.fillStyle = '#bf94ff'; // Twitch purple
    const where = poll.chat.platform === 'twitch' ? 'Twitch' : poll.chat.platform;
    ctx.fillText(fitText(ctx, `Type ${cmds} in ${where} chat · #${poll.chat.channel}`, (contentR - pad) / 2), contentR, footY - 32 * u);
  }
  ctx.textAlign = 'left';
}

/** Accepts the input as handed in: `{poll, show}`, or a bare poll (what earlier callers send). */
function normalise(input: PollSceneInput | PollScenePoll | null | undefined): PollSceneInput {
  if (!input) return { poll: null };
  if ('question' in input) return { poll: input };
  return input;
}

/**
 * A stream's poll state: takes the poll handed in (whenever it changes) and eases the bars
 * towards their shares once per frame; a new poll's bars grow from zero. The QR matrix and the
 * logo are made once per change of address or file, never per frame.
 */
export function pollSceneState(opts: { tauMs?: number } = {}): SceneState<PollSceneInput | PollScenePoll | null, PollSceneData> {
  let poll: PollScenePoll | null = null;
  let shown: number[] = [];
  let lastMs: number | null = null;
  let theme: Theme = DEFAULT_THEME;
  let voteUrl: string | null = null;
  let qr: QrMatrix | null = null;
  let logoFile: string | null = null;
  let logo: Image | null = null;
  return {
    set(input) {
      const next = normalise(input);
      if (next.poll && (!poll || next.poll.id !== poll.id)) shown = next.poll.options.map(() => 0);
      poll = next.poll ?? null;
      const show = next.show;
      if (!show) return;
      theme = { ...DEFAULT_THEME, ...Object.fromEntries(Object.entries(show).filter(([, v]) => v !== undefined && v !== null)) } as Theme;
      if ((show.voteUrl ?? null) !== voteUrl) {
        voteUrl = show.voteUrl ?? null;
        qr = voteUrl ? qrMatrix(voteUrl) : null;
      }
      if ((show.logoFile ?? null) !== logoFile) {
        logoFile = show.logoFile ?? null;
        logo = null;
        if (logoFile) {
          try {
            const img = new Image();
            img.src = fs.readFileSync(logoFile);
            logo = img;
          } catch {
            logo = null; // a missing or broken logo: the brand name instead
          }
        }
      }
    },
    frame(timeMs) {
      shown = easeTowards(shown, shares(poll), lastMs === null ? 0 : timeMs - lastMs, opts.tauMs);
      lastMs = timeMs;
      return { poll, shown, theme, voteUrl, qr, logo };
    },
  };
}

export function createPollScene(opts: { tauMs?: number } = {}): Scene<PollSceneData, PollSceneInput | PollScenePoll | null> {
  return {
    id: 'poll',
    description: 'The live poll show: question, animated vote bars, countdown, winner reveal, QR code to vote',
    draw: drawPoll,
    state: () => pollSceneState(opts),
  };
}

export const pollScene = createPollScene();
