// Where a poll is in the show, from its times and the clock: a pure function with no canvas,
// shared by the polls domain (the view it hands out) and the poll scene (which recomputes it
// every frame, so the countdown and the reveal move without any message from outside).
//
//   voting  open; with `endsAt`, a countdown runs to it (without: manual mode, open until closed)
//   closed  voting has ended; the final tally is being recorded, or shown until `revealAt`
//   reveal  from `revealAt`: the winner, animated, until `revealUntil` (then the next poll)
export type PollPhase = 'voting' | 'closed' | 'reveal';

export interface PollTimes {
  endsAt: string | null;
  closedAt: string | null;
  revealAt?: string | null;
  revealUntil?: string | null;
}

export function pollPhase(p: PollTimes, nowMs: number): PollPhase {
  if (!p.closedAt) return p.endsAt && Date.parse(p.endsAt) <= nowMs ? 'closed' : 'voting';
  if (p.revealAt && p.revealUntil && Date.parse(p.revealAt) <= nowMs) return 'reveal';
  return 'closed';
}
