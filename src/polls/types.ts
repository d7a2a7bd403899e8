// What a poll is, and the view of it that the API, the socket layer and the scene share.
export interface PollOption {
  /** Stable key a vote names: "A", "B", ... */
  key: string;
  label: string;
}

/** A poll's definition as stored (Postgres row, and JSON in Redis). */
export interface PollDef {
  id: number;
  question: string;
  options: PollOption[];
  createdAt: string;
  endsAt: string | null;
  closedAt: string | null;
  /** Only for a closed poll: the counts when it closed. */
  finalTally?: Record<string, number> | null;
  /** Only for a closed poll: who won (null: nobody voted). */
  winner?: PollWinner | null;
  /** The show's winner reveal: from `revealAt` to `revealUntil` (null: closed without a reveal). */
  revealAt?: string | null;
  revealUntil?: string | null;
}

/** The option(s) with the most votes; `tie` when more than one share the top. */
export interface PollWinner {
  keys: string[];
  labels: string[];
  votes: number;
  tie: boolean;
}

export interface PollOptionView extends PollOption {
  votes: number;
  /** Whole percentages that add up to 100 when there are votes (largest remainder). */
  percent: number;
}

export interface PollView {
  id: number;
  question: string;
  options: PollOptionView[];
  total: number;
  createdAt: string;
  endsAt: string | null;
  closedAt: string | null;
  /** Where the show is (see render/scenes/poll-phase.ts); the scene recomputes it from the clock. */
  phase?: PollPhase;
  winner?: PollWinner | null;
  revealAt?: string | null;
  revealUntil?: string | null;
  /** Issue 12: the chat bridge that is connected now (added for the poll scene; src/chat/on-air.ts). */
  chat?: { platform: string; channel: string };
}

export type { PollPhase } from '../render/scenes/poll-phase.js';
import type { PollPhase } from '../render/scenes/poll-phase.js';

/** A question and its labels, before it becomes a poll. */
export interface PollDraft {
  question: string;
  options: string[];
}

export type PollEvent =
  | { type: 'tally'; poll: PollView }
  /** The open poll closed (its final tally, winner and reveal times); the same id stays on air. */
  | { type: 'closed'; poll: PollView }
  | { type: 'poll'; poll: PollView; previous: PollView | null };

export const OPTION_KEYS = ['A', 'B', 'C', 'D'] as const;
export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 4;
