// src/chat: votes from the platform's chat (issue 12). The web role calls startChat(); with
// TWITCH_CHANNEL set, every web node runs a ChatRunner for it and the one holding the
// channel's lock runs the bridge (TwitchChat → ChatBridge → PollService.vote).
//
// Public API: startChat (the web role's hook), ChatHandle.status() (/api/health, /api/chat),
// ChatHandle.stats() (the metrics hook: this node's counters, null on a standby node),
// ChatOnAirFeed/withChat (the worker's poll scene), and the ChatSource interface a second
// platform implements (see types.ts and README "Chat votes").
import { Router } from 'express';
import { z } from 'zod';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { ChatBridge, type ChatStats, type VoteSink } from './bridge.js';
import { ChatRunner, type ChatKeys, type ChatStatus } from './runner.js';
import { TwitchChat } from './twitch.js';
import type { Backoff } from './types.js';

export { ChatBridge, type ChatStats, type VoteSink } from './bridge.js';
export { ChatRunner, chatKeys, type ChatStatus, type ChatKeys } from './runner.js';
export { ChatOnAirFeed, withChat, type ChatOnAir } from './on-air.js';
export { TwitchChat } from './twitch.js';
export { YouTubeChat } from './youtube.js';
export type { ChatSource, ChatMessage, ChatHandlers, SourceState } from './types.js';

export type ChatConfig = Pick<
  Config,
  'TWITCH_CHANNEL' | 'TWITCH_USERNAME' | 'TWITCH_OAUTH_TOKEN' | 'TWITCH_IRC_URL' | 'CHAT_VOTE_BARE' | 'CHAT_ANNOUNCE' | 'CHAT_SAY_PER_30S' | 'CHAT_LOCK_TTL_MS'
>;

export interface ChatHandle {
  readonly channel: string;
  /** The channel's bridge as every node sees it (redacted: no token ever in it). */
  status(): Promise<ChatStatus>;
  /** This node's counters (for /metrics); null when another node runs the bridge. */
  stats(): ChatStats | null;
  readonly runner: ChatRunner;
  close(): Promise<void>;
}

export interface StartChatOptions {
  /** Tests: their own key namespace, node id, backoff. */
  keys?: ChatKeys;
  nodeId?: string;
  backoff?: Backoff;
  authRetryMs?: number;
}

/** Null when no chat is configured (TWITCH_CHANNEL unset). */
export function startChat(config: ChatConfig, deps: { redis: Redis; polls: VoteSink }, opts: StartChatOptions = {}): ChatHandle | null {
  const channel = config.TWITCH_CHANNEL;
  if (!channel) return null;
  const runner = new ChatRunner({
    redis: deps.redis,
    platform: 'twitch',
    channel,
    ttlMs: config.CHAT_LOCK_TTL_MS,
    keys: opts.keys,
    nodeId: opts.nodeId,
    makeBridge: (onState) =>
      new ChatBridge(
        new TwitchChat({
          url: config.TWITCH_IRC_URL,
          channel,
          username: config.TWITCH_USERNAME,
          token: config.TWITCH_OAUTH_TOKEN,
          backoff: opts.backoff,
          authRetryMs: opts.authRetryMs,
        }),
        deps.polls,
        { bare: config.CHAT_VOTE_BARE, announcePer30s: config.CHAT_ANNOUNCE ? config.CHAT_SAY_PER_30S : 0, onState },
      ),
  });
  runner.start();
  return {
    channel,
    runner,
    status: () => runner.status(),
    stats: () => runner.localStats(),
    close: () => runner.stop(),
  };
}

/** The answer of GET /api/chat (and `chat` in /api/health), for the OpenAPI document. */
export const chatStatusSchema = z.looseObject({
  configured: z.boolean(),
  platform: z.string().optional(),
  channel: z.string().optional(),
  connected: z.boolean().optional(),
  node: z.string().nullable().optional(),
  messagesPerSec: z.number().optional(),
  votes: z.number().optional(),
  duplicates: z.number().optional(),
  reconnects: z.number().optional(),
  lastError: z.string().nullable().optional(),
  updatedAt: z.string().optional(),
});

/** GET /api/chat: the dashboard's view of the bridge (public: counts and state only). */
export function chatRouter(chat: ChatHandle | null): Router {
  const r = Router();
  r.get('/api/chat', async (_req, res, next) => {
    try {
      res.json(chat ? { configured: true, ...(await chat.status()) } : { configured: false });
    } catch (err) {
      next(err);
    }
  });
  return r;
}
