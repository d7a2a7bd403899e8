// Live data for the scenes of this worker's streams, from its main thread: one live poll view
// per worker process, shared by all its poll streams, started when the first one needs it
// (a worker that runs no poll stream never listens to poll events).
import type { Redis } from 'ioredis';
import type { Subscriber } from '../redis/index.js';
import { log, errMessage } from '../logger.js';
import { PollLiveView } from '../polls/live-view.js';
import { PollStore, type PollKeys } from '../polls/store.js';
import type { SceneDataSource } from './job-context.js';

const logger = log('STREAMING-TASK');

export class SceneFeeds {
  private readonly polls: PollLiveView;
  private started: Promise<void> | null = null;

  constructor(clients: { redis: Redis; subscriber: Subscriber }, opts: { keys?: PollKeys; refreshMs?: number } = {}) {
    this.polls = new PollLiveView({
      store: new PollStore(clients.redis, opts.keys),
      subscriber: clients.subscriber,
      refreshMs: opts.refreshMs ?? 2000,
    });
  }

  /** The StartContext hook: `push` gets the scene's data now and on every change. */
  readonly feed: SceneDataSource = (screenId, push) => {
    if (screenId !== 'poll') return () => {};
    this.started ??= this.polls.start().catch((err) => {
      logger.warn(`the poll view did not start: ${errMessage(err)}`);
    });
    const off = this.polls.subscribe((view) => push(view));
    push(this.polls.current());
    return off;
  };

  close(): Promise<void> {
    return this.polls.close();
  }
}
