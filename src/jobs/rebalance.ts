// Rebalancing (issue 13, item 4), the decision alone: a worker whose streams have been over its
// headroom (shedding load, or measured overcommitted) for longer than a grace period hands ONE
// stream, the newest it started, to the cluster, but only when another live worker advertises
// room for it in its heartbeat, and at most once per grace period (each handover restarts the
// wait, so the effect of one shows before the next). Pure; rebalancer.ts does what it says.

export interface RebalanceState {
  /** Since when (ms) the worker has been over its headroom without a break; null: it is not. */
  overSince: number | null;
  /** When (ms) it last handed a stream over (0: never). */
  lastAt: number;
}

export interface RebalanceInput {
  now: number;
  graceMs: number;
  /** Over its headroom now: shed level > 0, or fewer cores available than its streams take. */
  over: boolean;
  /** Its running streams, with when each started here (ms). */
  streams: Array<{ streamKey: string; since: number }>;
  /** The other live workers' advertised capacity (their heartbeats). */
  others: Array<{ id: string; headroom: number; shedLevel: number }>;
}

export interface Handover {
  streamKey: string;
  /** The worker that advertised the most room (the queue decides who claims; this one is why it goes). */
  to: string;
  /** How long the worker had been over its headroom (ms). */
  overMs: number;
}

export const IDLE_REBALANCE: RebalanceState = { overSince: null, lastAt: 0 };

export function decideRebalance(s: RebalanceState, i: RebalanceInput): { state: RebalanceState; handover: Handover | null } {
  if (!i.over || i.graceMs <= 0 || !i.streams.length) return { state: s.overSince === null ? s : { ...s, overSince: null }, handover: null };
  const overSince = s.overSince ?? i.now;
  const state = s.overSince === overSince ? s : { ...s, overSince };
  if (i.now - overSince < i.graceMs || i.now - s.lastAt < i.graceMs) return { state, handover: null };
  // A worker shedding load itself has no room to give, whatever its headroom says.
  const target = i.others.filter((o) => o.headroom >= 1 && o.shedLevel === 0).sort((a, b) => b.headroom - a.headroom || a.id.localeCompare(b.id))[0];
  if (!target) return { state, handover: null };
  const newest = i.streams.reduce((a, b) => (b.since > a.since ? b : a));
  return { state: { overSince: i.now, lastAt: i.now }, handover: { streamKey: newest.streamKey, to: target.id, overMs: i.now - overSince } };
}
