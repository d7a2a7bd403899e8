// Shared pub/sub on one subscriber connection: several listeners (live poll views of one
// process, tests) may use the same channel; the channel is unsubscribed when the last one leaves.
import type { Redis } from 'ioredis';
import { log, errMessage } from '../logger.js';

const logger = log('POLL');
const counts = new WeakMap<Redis, Map<string, number>>();

export async function subscribeChannel(
  sub: Redis,
  channel: string,
  onMessage: (message: string) => void,
): Promise<() => Promise<void>> {
  const listener = (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      onMessage(message);
    } catch (err) {
      logger.warn(`bad message on ${channel}: ${errMessage(err)}`);
    }
  };
  let perSub = counts.get(sub);
  if (!perSub) counts.set(sub, (perSub = new Map()));
  const n = perSub.get(channel) ?? 0;
  perSub.set(channel, n + 1);
  sub.on('message', listener);
  try {
    if (n === 0) await sub.subscribe(channel);
  } catch (err) {
    sub.off('message', listener);
    perSub.set(channel, (perSub.get(channel) ?? 1) - 1);
    throw err;
  }
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    sub.off('message', listener);
    const left = (perSub.get(channel) ?? 1) - 1;
    perSub.set(channel, left);
    if (left <= 0) {
      perSub.delete(channel);
      await sub.unsubscribe(channel).catch(() => undefined);
    }
  };
}
