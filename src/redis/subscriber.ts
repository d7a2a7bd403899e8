// The one owner of a process's subscriptions: a channel router over its one subscriber
// connection. Several modules listen to the same channel (the SSE feed hub and the socket.io
// relay both read `sf:frames:{key}`; the poll service and a worker's scenes read the poll
// events), so nobody may SUBSCRIBE or UNSUBSCRIBE the connection directly: the router counts
// handlers per channel, SUBSCRIBEs on the first, UNSUBSCRIBEs after the last, and dispatches
// each message to the handlers of its channel only.
//
// After a reconnect ioredis re-subscribes every channel the connection held (autoResubscribe,
// test/redis-subscriber.test.ts checks it after a Redis restart); messages published while it
// was away are lost, so readers that keep state reread it in `onReady`. Nobody uses pattern
// subscriptions (PSUBSCRIBE), so the router has none.
import type { Redis } from 'ioredis';
import { log, errMessage } from '../logger.js';

const logger = log('APP');

export type MessageHandler = (message: Buffer, channel: string) => void;
export type Unsubscribe = () => Promise<void>;

interface Channel {
  handlers: Set<MessageHandler>;
  /** The SUBSCRIBE of this channel (every handler added meanwhile waits for it). */
  subscribed: Promise<unknown>;
}

export class Subscriber {
  private readonly channels = new Map<string, Channel>();
  private readonly onMessage = (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), message);

  /** `connection`: a client made with createRedis(url, name, { subscriber: true }); its owner closes it. */
  constructor(readonly connection: Redis) {
    connection.on('messageBuffer', this.onMessage);
  }

  /** Resolves once the channel is subscribed; the result removes this handler (safe twice). */
  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    let ch = this.channels.get(channel);
    if (!ch) {
      ch = { handlers: new Set(), subscribed: this.connection.subscribe(channel) };
      this.channels.set(channel, ch);
    }
    // One registration per call, even when a caller passes the same function twice.
    const own: MessageHandler = (m, c) => handler(m, c);
    ch.handlers.add(own);
    try {
      await ch.subscribed;
    } catch (err) {
      this.drop(channel, ch, own, false);
      throw err;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      await this.drop(channel, ch, own, true);
    };
  }

  /** `fn` runs whenever the connection is ready again (after a reconnect: messages may have been missed). */
  onReady(fn: () => void): () => void {
    this.connection.on('ready', fn);
    return () => void this.connection.off('ready', fn);
  }

  /** Channels with handlers now, and how many each. */
  counts(): Map<string, number> {
    return new Map([...this.channels].map(([name, ch]) => [name, ch.handlers.size]));
  }

  /** Stop dispatching (the connection itself belongs to its opener). */
  close(): void {
    this.connection.off('messageBuffer', this.onMessage);
    this.channels.clear();
  }

  private async drop(channel: string, ch: Channel, handler: MessageHandler, unsubscribe: boolean): Promise<void> {
    ch.handlers.delete(handler);
    if (ch.handlers.size > 0 || this.channels.get(channel) !== ch) return;
    this.channels.delete(channel);
    if (!unsubscribe) return;
    // Commands on one connection run in order: a SUBSCRIBE for a new first handler sent after
    // this UNSUBSCRIBE wins. A connection that is away would hold the reply until it is back
    // (ioredis re-subscribes, then sends this): nobody needs to wait for that.
    const done = this.connection.unsubscribe(channel).catch((err) => logger.debug(`unsubscribe ${channel}: ${errMessage(err)}`));
    if (this.connection.status === 'ready') await done;
  }

  private dispatch(channel: string, message: Buffer): void {
    const ch = this.channels.get(channel);
    if (!ch) return;
    for (const h of ch.handlers) {
      try {
        h(message, channel);
      } catch (err) {
        logger.warn(`a handler of ${channel} failed: ${errMessage(err)}`);
      }
    }
  }
}
