// Even degradation when the machine is squeezed anyway (issue 13): when a worker's streams do
// not keep their frame rate, load is shed in a fixed order, the same for every stream of the
// worker, and restored in reverse once the CPU is back. Pure: admission.ts applies the levels.
//
// The ladder: 0 full rate; 1 the previews at half their rate; 2 the scenes' optional effects off
// as well (the poll's drifting background slashes, the light along its bars, the confetti: ~1.2-2.3 ms of
// a 1280×720 frame's ~15-22 ms on the 2-core reference machine, bench/poll-scene.ts EFFECTS=off);
// 3, 4, 5 the broadcast rendered at 5/6, 2/3, 1/2 of its rate (30 → 25 → 20 → 15 fps). The
// broadcast keeps its declared rate for the platform: frames not rendered are the previous one
// sent again (a duplicate costs FFmpeg little and the render nothing).
import type { RenderRates } from '../render/pipeline.js';

export const MAX_SHED_LEVEL = 5;
/** The first level without the optional scene effects. */
export const EFFECTS_OFF_LEVEL = 2;
const RENDER_SHARE = [1, 1, 1, 5 / 6, 2 / 3, 1 / 2];

/** Frames actually rendered per second (the rest are repeats), previews per second, the scene's optional effects. */
export type Rates = Required<RenderRates>;

const clampLevel = (level: number) => Math.max(0, Math.min(MAX_SHED_LEVEL, Math.round(level)));

/** The rates of one stream at a shed level. */
export function ratesAt(level: number, nominal: { broadcastFps: number; previewFps: number }): Rates {
  const l = clampLevel(level);
  return {
    renderFps: Math.max(1, Math.round(nominal.broadcastFps * RENDER_SHARE[l])),
    previewFps: l >= 1 ? Math.max(1, Math.round(nominal.previewFps / 2)) : nominal.previewFps,
    effects: l < EFFECTS_OFF_LEVEL,
  };
}

/**
 * The share of a stream's cost left at a level, roughly: render ≈ 2/3 of a stream's CPU, the
 * halved preview saves ≈ 1/20, the effects ≈ 1/10 of the render (measured, see above).
 */
export function costShare(level: number): number {
  const l = clampLevel(level);
  const preview = l >= 1 ? 0.05 : 0;
  const effects = l >= EFFECTS_OFF_LEVEL ? 0.1 * 0.66 * RENDER_SHARE[l] : 0;
  return 1 - preview - effects - (1 - RENDER_SHARE[l]) * 0.66;
}

export interface ShedState {
  level: number;
  /** When the level last changed (ms). */
  changedAt: number;
  /** Since when the streams have dropped nothing (ms); null while they drop. */
  calmSince: number | null;
  /** When the last step was restored (ms; 0: none yet): a shed soon after it means the probe failed. */
  restoredAt?: number;
  /** How long to stay calm before probing a step back without idle CPU to show for it (ms). */
  probeMs?: number;
}

export interface ShedInput {
  now: number;
  /** Share of the frames due in the last window that were dropped or late (all streams of the worker). */
  dropRatio: number;
  /** Cores left after the margin (capacity.ts availableCores, with our streams at their current cost). */
  spareCores: number;
  /** What the streams at the current level cost together (cores). */
  streamsCores: number;
  streams: number;
}

export const SHED_TUNING = {
  /** Drops above this share of the due frames (smoothed over the last windows) is pressure. */
  shedAbove: 0.02,
  /** Below this the streams are fine. */
  calmBelow: 0.01,
  /** A step needs this long since the last change to show its effect. */
  holdMs: 4000,
  /** Fine, with the idle CPU the next step costs, this long before restoring a step. */
  restoreAfterMs: 10_000,
  /** Fine with twice the idle CPU the next step costs (the squeeze is plainly over): this long. */
  restoreFastMs: 5_000,
  /**
   * Fine but without visible idle CPU (a greedy neighbour soaks up whatever is free, yet the
   * scheduler would give our streams their share): probe a step back after this long, doubled
   * after each probe that had to be shed again, up to probeMaxMs.
   */
  probeMs: 30_000,
  probeMaxMs: 300_000,
  /** A shed this soon after a restore means the restore was too early. */
  failedProbeMs: 20_000,
};

/** The next state; the level moves one step at a time. */
export function nextShed(s: ShedState, i: ShedInput, t = SHED_TUNING): ShedState {
  const probeMs = s.probeMs ?? t.probeMs;
  if (i.streams === 0) return s.level === 0 ? s : { level: 0, changedAt: i.now, calmSince: null, probeMs: t.probeMs };
  const settled = i.now - s.changedAt >= t.holdMs;
  if (i.dropRatio > t.shedAbove) {
    if (!settled || s.level >= MAX_SHED_LEVEL) return s.calmSince === null ? s : { ...s, calmSince: null };
    const failedProbe = !!s.restoredAt && i.now - s.restoredAt < t.failedProbeMs;
    return { ...s, level: s.level + 1, changedAt: i.now, calmSince: null, probeMs: failedProbe ? Math.min(t.probeMaxMs, probeMs * 2) : probeMs };
  }
  if (i.dropRatio >= t.calmBelow) return s.calmSince === null ? s : { ...s, calmSince: null };
  if (s.level === 0) {
    // Back at full rate and calm for a while: the next squeeze starts with a short probe again.
    if (s.probeMs && s.probeMs !== t.probeMs && i.now - s.changedAt >= t.probeMaxMs) return { ...s, probeMs: t.probeMs };
    return s;
  }
  const calmSince = s.calmSince ?? i.now;
  // Restoring one step costs the streams' cost at the level above minus what they cost now.
  const perShare = i.streamsCores / Math.max(0.01, costShare(s.level));
  const extra = perShare * (costShare(s.level - 1) - costShare(s.level));
  const wait = i.spareCores >= 2 * extra ? t.restoreFastMs : i.spareCores >= extra ? t.restoreAfterMs : probeMs;
  if (settled && i.now - calmSince >= wait) return { ...s, level: s.level - 1, changedAt: i.now, calmSince: null, restoredAt: i.now };
  return s.calmSince === calmSince ? s : { ...s, calmSince };
}

export function describeLevel(level: number, nominal: { broadcastFps: number; previewFps: number }): string {
  const l = clampLevel(level);
  if (l <= 0) return 'full rate';
  const r = ratesAt(l, nominal);
  const parts = [`previews at ${r.previewFps} fps`];
  if (!r.effects) parts.unshift('scene effects off');
  if (l > EFFECTS_OFF_LEVEL) parts.unshift(`broadcast rendered at ${r.renderFps} fps (declared ${nominal.broadcastFps})`);
  return parts.join(', ');
}
