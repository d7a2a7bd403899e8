// Live data for the scenes of this worker's streams, from its main thread: one live poll view
// per worker process, shared by all its poll streams, started when the first one needs it
// (a worker that runs no poll stream never listens to poll events). The poll goes with the
// show's settings from the config (theme, logo, the vote address on air).
import type { Redis } from 'ioredis';
import type { Subscriber } from '../redis/index.js';
import type { Config } from '../config.js';
import type { PollSceneShow } from '../render/scenes/poll.js';
import { log, errMessage } from '../logger.js';
import { PollLiveView } from '../polls/live-view.js';
import { PollStore, type PollKeys } from '../polls/store.js';
import type { SceneDataSource } from './job-context.js';
import { ChatOnAirFeed, withChat } from '../chat/on-air.js';

const logger = log('STREAMING-TASK');

export class SceneFeeds {
  private readonly polls: PollLiveView;
  private readonly chat: ChatOnAirFeed;
  private started: Promise<void> | null = null;
  private readonly show: PollSceneShow | undefined;

  constructor(clients: { redis: Redis; subscriber: Subscriber }, opts: { keys?: PollKeys; refreshMs?: number; show?: PollSceneShow } = {}) {
    this.show = opts.show;
    this.polls = new PollLiveView({
      store: new PollStore(clients.redis, opts.keys),
      subscriber: clients.subscriber,
      refreshMs: opts.refreshMs ?? 2000,
    });
    this.chat = new ChatOnAirFeed(clients.subscriber);
  }

  /** The StartContext hook: `push` gets the scene's data now and on every change. */
  readonly feed: SceneDataSource = (screenId, push) => {
    if (screenId !== 'poll') return () => {};
    this.started ??= Promise.all([this.polls.start(), this.chat.start()]).then(() => undefined, (err) => {
      logger.warn(`the poll view did not start: ${errMessage(err)}`);
    });
    // The poll, the show's settings, and "type !A in chat" on air while a chat bridge is connected.
    const send = () => push({ poll: withChat(this.polls.current(), this.chat.current()), show: this.show });
    const offs = [this.polls.subscribe(send), this.chat.subscribe(send)];
    send();
    return () => offs.forEach((off) => off());
  };

  async close(): Promise<void> {
    await Promise.all([this.polls.close(), this.chat.close()]);
  }
}

/** The poll scene's settings from the config: the vote page's full address only with PUBLIC_URL. */
export function pollShowSettings(
  config: Pick<Config, 'PUBLIC_URL' | 'BRAND_NAME' | 'THEME_BACKGROUND' | 'THEME_ACCENT' | 'THEME_OPTION_COLOURS' | 'LOGO_FILE'>,
): PollSceneShow {
  return {
    voteUrl: config.PUBLIC_URL ? `${config.PUBLIC_URL}/vote` : null,
    brand: config.BRAND_NAME,
    background: config.THEME_BACKGROUND,
    accent: config.THEME_ACCENT[0],
    optionColours: config.THEME_OPTION_COLOURS,
    logoFile: config.LOGO_FILE ?? null,
  };
}
