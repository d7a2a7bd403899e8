// The poll as the poll scene takes it and draws it: plain data (it crosses a thread), shared by
// the scene (poll.ts) and its layout (poll-layout.ts).
import type { Image } from '@napi-rs/canvas';
import type { QrMatrix } from './draw-kit.js';
import type { Theme } from './poll-parts.js';

/** The poll as this scene draws it (the polls domain's PollView has this shape, and more). */
export interface PollScenePoll {
  id: number;
  question: string;
  options: readonly { key: string; label: string; votes: number; percent: number }[];
  total: number;
  endsAt: string | null;
  createdAt?: string;
  closedAt?: string | null;
  revealAt?: string | null;
  revealUntil?: string | null;
  winner?: { keys: string[]; labels: string[]; votes: number; tie: boolean } | null;
  /** A chat bridge is connected (votes by typing !A … in the platform's chat). */
  chat?: { platform: string; channel: string } | null;
}

/** How the show looks and where to vote (from the config, handed in with the poll). */
export interface PollSceneShow extends Partial<Theme> {
  /** Full address of the vote page (PUBLIC_URL + /vote); null or absent: no address on air. */
  voteUrl?: string | null;
  /** A PNG/JPEG/SVG drawn in the header instead of the brand name. */
  logoFile?: string | null;
}

/** What the scene takes: the poll and the show settings, or (as before) just the poll. */
export interface PollSceneInput {
  poll: PollScenePoll | null;
  show?: PollSceneShow;
}

export interface PollSceneData {
  poll: PollScenePoll | null;
  /** What each bar shows now, 0..1 of the full width (eases towards the option's share). */
  shown: number[];
  theme?: Theme;
  voteUrl?: string | null;
  qr?: QrMatrix | null;
  logo?: Image | null;
}
