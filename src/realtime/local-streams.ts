// This node's view of the streams it streams or watches: one record per stream key with its
// local viewers, and the subscription that brings its frames here (the frame bus channel of a
// socket stream streamed elsewhere, or the worker's frame bus for a server-rendered one).
import { log, redactKey, errMessage } from '../logger.js';
import type { MessageHandler, Subscriber, Unsubscribe } from '../redis/index.js';
import { MemoryRing, type RingLimits } from './catchup.js';
import type { SocketFanout } from './fanout.js';
import type { RtSocket, StreamFrame, StreamInfo, StreamKind } from './protocol.js';

const logger = log('REALTIME');

export interface Member {
  socket: RtSocket;
  joined: boolean;
  /** Counted in Redis (a +1 issued and not undone). */
  counted: boolean;
  /** Live frames that arrive while the catch-up is being read (sent after it, deduplicated). */
  held: StreamFrame[];
  /** Newest seq this viewer has (the catch-up and the live channel come over different Redis
   *  connections, so a frame can show up in both). */
  lastSeq: number;
  sent: number;
  skipped: number;
}

export interface LocalStream {
  key: string;
  kind: StreamKind;
  sid: string;
  /** The streamer's socket when it is on this node. */
  owner: RtSocket | null;
  streamer: string | null;
  live: boolean;
  seq: number;
  members: Map<string, Member>;
  /** Members still joining (not yet in the room). */
  pending: number;
  /** Server-rendered streams: this node's catch-up ring. */
  ring: MemoryRing | null;
  clusterViewers: number;
  subscribed: boolean;
  /** Bytes of this stream's frames on their way to Redis. */
  inflight: number;
  skippedRedis: number;
  viewersTimer: NodeJS.Timeout | null;
  viewersAt: number;
}

/** Subscribes to a server-rendered stream's frames (the feed hub's watch/unwatch). */
export interface FrameWatcher {
  watch(streamKey: string): Promise<void>;
  unwatch(streamKey: string): Promise<void>;
}

export class LocalStreams {
  private readonly map = new Map<string, LocalStream>();
  /** Frame-channel subscriptions of socket streams streamed elsewhere, by stream key. */
  private readonly channels = new Map<string, Promise<Unsubscribe>>();

  /** `onFrame` gets the messages of the socket streams' frame channels this node subscribes to. */
  constructor(
    private readonly limits: RingLimits,
    private readonly sub: Subscriber,
    private readonly watcher: FrameWatcher,
    private readonly fanout: SocketFanout,
    private readonly onFrame: MessageHandler,
  ) {}

  get(key: string): LocalStream | undefined {
    return this.map.get(key);
  }

  all(): LocalStream[] {
    return [...this.map.values()];
  }

  /** The record of `key`, created with these fields if there is none. */
  ensure(key: string, kind: StreamKind, sid: string, streamer: string | null, live: boolean): LocalStream {
    let ls = this.map.get(key);
    if (!ls) {
      ls = {
        key, kind, sid, owner: null, streamer, live, seq: 0, members: new Map(), pending: 0,
        ring: kind === 'server' ? new MemoryRing(this.limits) : null,
        clusterViewers: 0, subscribed: false, inflight: 0, skippedRedis: 0, viewersTimer: null, viewersAt: 0,
      };
      this.map.set(key, ls);
    }
    return ls;
  }

  /** Still the record of its key (not ended and created again meanwhile). */
  isCurrent(ls: LocalStream): boolean {
    return this.map.get(ls.key) === ls;
  }

  info(ls: LocalStream): StreamInfo {
    return { streamKey: ls.key, kind: ls.kind, live: ls.live, streamer: ls.streamer, viewers: Math.max(ls.clusterViewers, ls.members.size) };
  }

  /** Bring a stream's frames to this node (once; nothing for a stream streamed from here). */
  async subscribe(ls: LocalStream): Promise<void> {
    if (ls.subscribed || ls.owner) return;
    const channel = ls.kind === 'socket' ? this.fanout.channel(ls.key) : null;
    if (ls.kind === 'socket' && !channel) return;
    ls.subscribed = true;
    if (!channel) return this.watcher.watch(ls.key);
    const on = this.sub.subscribe(channel, (message, ch) => this.onFrame(message, ch));
    this.channels.set(ls.key, on);
    await on;
  }

  /** Nobody left here for a stream this node does not stream: drop it and its subscription. */
  release(ls: LocalStream): void {
    if (ls.owner || ls.members.size > 0 || !this.isCurrent(ls)) return;
    this.map.delete(ls.key);
    if (ls.viewersTimer) clearTimeout(ls.viewersTimer);
    if (!ls.subscribed) return;
    ls.subscribed = false;
    const on = this.channels.get(ls.key);
    this.channels.delete(ls.key);
    const done = on ? on.then((off) => off()) : ls.kind === 'server' ? this.watcher.unwatch(ls.key) : Promise.resolve();
    done.catch((err) => logger.warn(`unsubscribe ${redactKey(ls.key)}: ${errMessage(err)}`));
  }
}
