// Live data for the scenes of this worker's streams, from its main thread: one live poll view
// per worker process, shared by all its poll streams, started when the first one needs it
// (a worker that runs no poll stream never listens to poll events).
import type { Redis } from 'ioredis';
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

  constructor(clients: { redis: Redis; subscriber: Redis }, opts: { keys?: PollKeys; refreshMs?: number } = {}) {
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
    // Issue 12: "type !A in chat" on air while a chat bridge is connected.
    const send = () => push(withChat(this.polls.current(), this.chat.current()));
    const offs = [this.polls.subscribe(send), this.chat.subscribe(send)];
    send();
    return () => offs.forEach((off) => off());
  };

  async close(): Promise<void> {
    await Promise.all([this.polls.close(), this.chat.close()]);
  }
}
