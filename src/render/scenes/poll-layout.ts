// Where everything of the poll scene goes in a frame: the phase, the header's texts, the vote
// panel, the question's lines and the rows' area. Pure functions of (frame, data); the context
// is used to measure the question only, and that measurement is kept per question and width
// (a dozen text measurements a frame before, issue 14).
import type { SKRSContext2D } from '@napi-rs/canvas';
import type { FrameInfo } from '../scene.js';
import { FONT_SANS } from '../fonts.js';
import { wrap } from './draw-kit.js';
import { pollPhase, type PollPhase } from './poll-phase.js';
import { DEFAULT_THEME, type Theme } from './poll-parts.js';
import type { RowsLayout } from './poll-rows.js';
import type { PollSceneData, PollScenePoll } from './poll-types.js';

export interface PollLayout {
  w: number;
  h: number;
  /** Layout unit: the scene is designed at 1280×720. */
  u: number;
  pad: number;
  /** The header's middle line. */
  headY: number;
  theme: Theme;
  effects: boolean;
  phase: PollPhase | null;
  /** Milliseconds since the reveal began (null: not revealing). */
  reveal: number | null;
  badge: string;
  /** The big text on the header's right: the countdown, FINAL or NEXT …; `urgent` in the last ten seconds. */
  right: { text: string; urgent: boolean } | null;
  /** The vote panel's left edge and width (null: no QR code on air). */
  panel: { x: number; y: number; width: number } | null;
  /** Right edge of the question, the rows and the footer. */
  contentR: number;
  /** The question's font size, lines and top (null: no poll). */
  question: { size: number; lines: string[]; top: number } | null;
  rows: RowsLayout | null;
  footH: number;
  footY: number;
}

/** "1:05" for 65 s; "0:00" once over. */
export function countdownText(msLeft: number): string {
  const s = Math.max(0, Math.ceil(msLeft / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

// A question's wrap costs a dozen text measurements; it changes with the poll, not the frame.
const questions = new Map<string, { size: number; lines: string[] }>();

/** Question: one line if it fits, else two (three, smaller, if it must). Leaves ctx.font at the size chosen. */
function questionLines(ctx: SKRSContext2D, text: string, width: number, u: number): { size: number; lines: string[] } {
  const key = `${u} ${width} ${text}`;
  const known = questions.get(key);
  if (known) return known;
  let size = 50 * u;
  let lines: string[] = [];
  for (const [s, max] of [[50, 1], [40, 2], [32, 3]] as const) {
    size = s * u;
    ctx.font = `bold ${Math.round(size)}px "${FONT_SANS}"`;
    lines = wrap(ctx, text, width, max);
    if (!lines[lines.length - 1].endsWith('…') || max === 3) break;
  }
  if (questions.size >= 16) questions.delete(questions.keys().next().value!);
  const out = { size, lines };
  questions.set(key, out);
  return out;
}

export function layoutPoll(ctx: SKRSContext2D, info: FrameInfo, data: PollSceneData): PollLayout {
  const { width: w, height: h, timeMs: t } = info;
  const u = h / 720;
  const pad = Math.round(56 * u);
  const poll = data.poll;
  const phase = poll ? pollPhase({ endsAt: poll.endsAt, closedAt: poll.closedAt ?? null, revealAt: poll.revealAt, revealUntil: poll.revealUntil }, t) : null;
  const reveal = phase === 'reveal' && poll?.revealAt ? t - Date.parse(poll.revealAt) : null;
  let right: PollLayout['right'] = null;
  if (poll && phase === 'voting' && poll.endsAt) {
    const left = Date.parse(poll.endsAt) - t;
    right = { text: countdownText(left), urgent: left <= 10_000 };
  } else if (phase === 'closed') right = { text: 'FINAL', urgent: false };
  else if (phase === 'reveal' && poll?.revealUntil) right = { text: `NEXT ${countdownText(Date.parse(poll.revealUntil) - t)}`, urgent: false };
  const badge = phase === 'closed' ? 'VOTING CLOSED' : phase === 'reveal' ? 'RESULTS' : 'LIVE POLL';
  const panelW = Math.round(264 * u);
  const qr = data.voteUrl && data.qr ? data.qr : null;
  const contentR = qr ? w - pad - panelW - 36 * u : w - pad;
  const footH = 76 * u;
  const base = {
    w, h, u, pad, headY: Math.round(48 * u), theme: data.theme ?? DEFAULT_THEME, effects: info.effects !== false, phase, reveal, badge, right,
    panel: qr ? { x: w - pad - panelW, y: 116 * u, width: panelW } : null,
    contentR, footH, footY: h - footH / 2 - 14 * u,
  };
  if (!poll) return { ...base, question: null, rows: null };
  const q = questionLines(ctx, poll.question, contentR - pad, u);
  const qTop = 116 * u;
  const top = qTop + q.lines.length * q.size * 1.15 + 22 * u;
  return { ...base, question: { ...q, top: qTop }, rows: { x: pad, width: contentR - pad, top, bottom: h - footH - 14 * u, u } };
}

/** How the rows look in the reveal: the winners glow (pulse), the others fade (dim). Undefined: not revealing. */
export function revealStyle(L: PollLayout, winners: Set<string>): { winners: Set<string>; dim: number; pulse: number } | undefined {
  if (L.reveal === null) return undefined;
  return { winners, dim: Math.min(1, L.reveal / 600), pulse: 0.5 + 0.5 * Math.sin(L.reveal / 180) };
}

/** The dots after "The next poll starts soon": one to three, a step every half second. */
export const soonDots = (t: number): string => '.'.repeat(1 + (Math.floor(t / 500) % 3));

const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

/** What the header shows at `t` besides the layout: the clock, and the urgent countdown's breath. */
export function headerState(L: PollLayout, t: number): { clock: string; alpha: number } {
  return { clock: clock(t), alpha: L.right?.urgent ? 0.75 + 0.25 * Math.cos((t / 1000) * Math.PI * 2) : 1 };
}

/** The time left as a share of the voting time (the bar draining under the header); null: no such bar. */
export function drainShare(poll: PollScenePoll, phase: PollLayout['phase'], t: number): number | null {
  if (phase !== 'voting' || !poll.endsAt || !poll.createdAt) return null;
  const total = Date.parse(poll.endsAt) - Date.parse(poll.createdAt);
  return total > 0 ? Math.min(1, Math.max(0, (Date.parse(poll.endsAt) - t) / total)) : 0;
}
