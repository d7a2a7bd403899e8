// Pure tally arithmetic: counts → view (percentages), merging updates that may arrive out of order.
import { pollPhase } from '../render/scenes/poll-phase.js';
import type { PollDef, PollDraft, PollOption, PollView, PollWinner } from './types.js';
import { OPTION_KEYS } from './types.js';

/** Labels → options with keys A, B, C, D. */
export function toOptions(draft: PollDraft): PollOption[] {
  return draft.options.map((label, i) => ({ key: OPTION_KEYS[i], label }));
}

/** Largest-remainder percentages: whole numbers that add up to 100 (all 0 when there are no votes). */
export function percentages(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return counts.map(() => 0);
  const exact = counts.map((c) => (c * 100) / total);
  const floors = exact.map(Math.floor);
  let left = 100 - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i] += 1;
    left -= 1;
  }
  return floors;
}

/** The option(s) with the most votes; null when nobody voted. */
export function winnerOf(def: Pick<PollDef, 'options'>, counts: Record<string, number | string | undefined>): PollWinner | null {
  const votes = def.options.map((o) => Math.max(0, Math.trunc(Number(counts[o.key] ?? 0)) || 0));
  const top = Math.max(0, ...votes);
  if (top === 0) return null;
  const won = def.options.filter((_, i) => votes[i] === top);
  return { keys: won.map((o) => o.key), labels: won.map((o) => o.label), votes: top, tie: won.length > 1 };
}

/** Builds the view from a definition and counts per option key (missing keys count 0). */
export function buildView(def: PollDef, counts: Record<string, number | string | undefined>, nowMs = Date.now()): PollView {
  const votes = def.options.map((o) => {
    const n = Number(counts[o.key] ?? 0);
    return Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0;
  });
  const pct = percentages(votes);
  return {
    id: def.id,
    question: def.question,
    options: def.options.map((o, i) => ({ key: o.key, label: o.label, votes: votes[i], percent: pct[i] })),
    total: votes.reduce((a, b) => a + b, 0),
    createdAt: def.createdAt,
    endsAt: def.endsAt,
    closedAt: def.closedAt,
    phase: pollPhase(def, nowMs),
    winner: def.closedAt ? (def.winner !== undefined ? def.winner : winnerOf(def, counts)) : null,
    revealAt: def.revealAt ?? null,
    revealUntil: def.revealUntil ?? null,
  };
}

/** The definition a view was built from. */
export function defOfView(v: PollView): PollDef {
  return {
    id: v.id,
    question: v.question,
    options: v.options.map((o) => ({ key: o.key, label: o.label })),
    createdAt: v.createdAt,
    endsAt: v.endsAt,
    closedAt: v.closedAt,
    winner: v.closedAt ? v.winner : undefined,
    revealAt: v.revealAt,
    revealUntil: v.revealUntil,
  };
}

/**
 * Merges an update into what we show. Within one poll counts only grow, so updates published
 * by several processes may arrive in any order: keep the larger count per option. A different
 * poll replaces the current one only if it is newer (ids grow).
 */
export function mergeView(current: PollView | null, update: PollView, opts: { replace?: boolean } = {}): PollView {
  if (!current || opts.replace || update.id > current.id) return update;
  if (update.id < current.id) return current;
  let changed = false;
  const counts: Record<string, number> = {};
  update.options.forEach((o, i) => {
    const mine = current.options[i]?.votes ?? 0;
    counts[o.key] = Math.max(mine, o.votes);
    if (counts[o.key] !== mine) changed = true;
  });
  // A poll closing (or its end moving: "close now") is news even without new votes.
  const sameTimes = update.closedAt === current.closedAt && update.endsAt === current.endsAt && update.revealUntil === current.revealUntil;
  if (!changed && sameTimes) return current;
  const later = update.closedAt || !current.closedAt ? update : current;
  return buildView({ ...defOfView(later), options: update.options }, counts);
}

/** Resolves what a voter typed: an option key ("A", case-insensitive) or its exact label. */
export function resolveOption(def: { options: PollOption[] }, option: string): PollOption | undefined {
  const o = option.trim();
  return def.options.find((x) => x.key === o.toUpperCase()) ?? def.options.find((x) => x.label === o);
}
