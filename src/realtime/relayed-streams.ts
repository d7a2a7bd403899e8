// Server-rendered streams relayed to socket.io viewers: a worker renders them and publishes
// JPEG frames on the frame bus; the feed hub brings them to this node (subscribed while the
// stream has viewers here), where they go to a small in-memory catch-up ring and to the room.
// They end on the bus's `ended` event or when their state hash goes inactive (checkState).
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { log, errMessage } from '../logger.js';
import type { BusFrame } from '../streams/bus.js';
import type { ClusterState } from './cluster.js';
import type { Delivery } from './delivery.js';
import type { LocalStreams } from './local-streams.js';
import type { StreamFrame } from './protocol.js';
import type { Viewers } from './viewers.js';

const logger = log('REALTIME');

export class RelayedStreams {
  constructor(
    private readonly streams: LocalStreams,
    private readonly viewers: Viewers,
    private readonly delivery: Delivery,
    private readonly cluster: ClusterState,
  ) {}

  /** A frame from the feed hub (every stream this node's bus subscription has). */
  onFrame(streamKey: string, f: BusFrame): void {
    const ls = this.streams.get(streamKey);
    if (!ls?.ring) return;
    const frame: StreamFrame = { streamKey, data: f.jpeg, timestamp: f.ts, seq: f.seq };
    ls.ring.push(frame);
    this.delivery.deliver(ls, frame);
  }

  /** The stream ended (bus event, or its state hash went inactive); a `taskId` must be its session's. */
  onEnded(streamKey: string, reason: string, taskId?: string): void {
    const ls = this.streams.get(streamKey);
    if (!ls || ls.kind !== 'server' || (taskId && ls.sid && taskId !== ls.sid)) return;
    this.viewers.endAll(ls, reason);
    this.cluster.dropViewers(streamKey).catch((err) => logger.warn(`viewer count: ${errMessage(err)}`));
  }

  /** Server-rendered streams this node watches. */
  watched(): string[] {
    return this.streams.all().filter((s) => s.kind === 'server').map((s) => s.key);
  }

  /** Events can be missed (a worker killed without a word): end the watched streams whose state went inactive. */
  async checkState(redis: Redis): Promise<void> {
    const watched = this.watched();
    if (!watched.length || redis.status !== 'ready') return;
    const res = (await watched.reduce((p, k) => p.hget(keys.state(k), 'active'), redis.pipeline()).exec()) ?? [];
    watched.forEach((k, i) => res[i]?.[1] !== 'true' && this.onEnded(k, 'state inactive'));
  }
}
