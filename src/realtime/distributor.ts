// StreamDistributor (seeds 002/004): this node's side of every stream it streams or watches,
// as one entry point for the socket handlers and the Redis inputs. It routes:
//   socket streams (a STREAMER's frames)            → socket-streams.ts
//   relayed streams (server-rendered, frame bus)    → relayed-streams.ts
//   viewers joining (catch-up) and leaving          → viewers.ts
//   viewer counts from the cluster events channel   → viewer-counts.ts
// over one registry of this node's streams (local-streams.ts) and one way to reach viewers
// (delivery.ts, with per-viewer backpressure).
import { redactKey } from '../logger.js';
import type { Subscriber } from '../redis/index.js';
import type { BusFrame } from '../streams/bus.js';
import type { RedisCatchup, RingLimits } from './catchup.js';
import type { ClusterEvent, ClusterState, RegistryEntry } from './cluster.js';
import { Delivery } from './delivery.js';
import { busFanout, type SocketFanout } from './fanout.js';
import { LocalStreams, type FrameWatcher } from './local-streams.js';
import type { RtServer, RtSocket, StreamInfo, StreamKind } from './protocol.js';
import { RelayedStreams } from './relayed-streams.js';
import { SocketStreams } from './socket-streams.js';
import { ViewerCounts } from './viewer-counts.js';
import { Viewers } from './viewers.js';

export type { RtServer, RtSocket } from './protocol.js';

export interface DistributorOptions {
  /** How socket streams reach other nodes (default: the per-stream Redis frame channel). */
  fanout?: SocketFanout;
  limits: RingLimits;
  /** Bytes of one stream's frames allowed in flight to Redis before frames skip Redis. */
  maxInflightBytes: number;
  /** A viewer whose connection holds more than this, or two frames (bytes not yet sent), skips frames. */
  maxBacklogBytes: number;
  /** Viewer-count pushes per stream per node are at most one per this many ms. */
  viewersEveryMs: number;
}

export class StreamDistributor {
  private readonly streams: LocalStreams;
  private readonly viewers: Viewers;
  private readonly counts: ViewerCounts;
  private readonly socketStreams: SocketStreams;
  readonly relayed: RelayedStreams;

  constructor(io: RtServer, cluster: ClusterState, private readonly catchup: RedisCatchup, sub: Subscriber, feed: FrameWatcher, opts: DistributorOptions) {
    const fanout = opts.fanout ?? busFanout;
    this.streams = new LocalStreams(opts.limits, sub, feed, fanout, (message, channel) => this.onBusFrame(channel, message));
    const delivery = new Delivery(io, { maxBacklogBytes: opts.maxBacklogBytes, maxHeld: opts.limits.frames * 2 });
    this.viewers = new Viewers(this.streams, cluster, catchup);
    this.counts = new ViewerCounts(io, this.streams, opts.viewersEveryMs);
    const streams = this.streams;
    this.socketStreams = new SocketStreams({ io, streams, viewers: this.viewers, counts: this.counts, delivery, cluster, catchup, fanout, maxInflightBytes: opts.maxInflightBytes });
    this.relayed = new RelayedStreams(streams, this.viewers, delivery, cluster);
  }

  /** This node's tag in the frames it publishes. */
  get nodeTag(): number {
    return this.socketStreams.nodeTag;
  }

  // ---- streamer side (socket handlers) -------------------------------------------------
  registerStream = (streamKey: string, owner: RtSocket) => this.socketStreams.register(streamKey, owner);
  startStream = (streamKey: string, socketId: string) => this.socketStreams.start(streamKey, socketId);
  unregisterStream = (streamKey: string, reason: string, socketId?: string) => this.socketStreams.end(streamKey, reason, socketId);
  streamerLeft = (streamKey: string, socketId: string, reason: string) => this.socketStreams.streamerLeft(streamKey, socketId, reason);
  distributeStreamData = (streamKey: string, data: string | Buffer, streamerId: string) => this.socketStreams.send(streamKey, data, streamerId);
  ownedEntries = (): [string, RegistryEntry][] => this.socketStreams.ownedEntries();

  // ---- viewer side (socket handlers) ---------------------------------------------------
  addViewer = (streamKey: string, socket: RtSocket): Promise<StreamInfo> => this.viewers.add(streamKey, socket);
  removeViewer = (streamKey: string, socketId: string): Promise<boolean> => this.viewers.remove(streamKey, socketId);

  // ---- inputs from Redis ---------------------------------------------------------------
  onBusFrame = (channel: string, message: Buffer) => this.socketStreams.onBusFrame(channel, message);
  onServerFrame = (streamKey: string, f: BusFrame) => this.relayed.onFrame(streamKey, f);
  onServerEnded = (streamKey: string, reason: string, taskId?: string) => this.relayed.onEnded(streamKey, reason, taskId);
  watchedServerStreams = (): string[] => this.relayed.watched();

  onClusterEvent(ev: ClusterEvent): void {
    if (ev.type === 'viewers') this.counts.onCount(ev.streamKey, ev.count);
    else this.socketStreams.onLifecycle(ev);
  }

  // ---- statistics (this node; the cluster's come from ClusterState) ---------------------

  getStreamStats(streamKey: string): { viewerCount: number; bufferSize: number } {
    const ls = this.streams.get(streamKey);
    if (!ls) return { viewerCount: 0, bufferSize: 0 };
    return { viewerCount: ls.members.size - ls.pending, bufferSize: ls.ring ? ls.ring.size : this.catchup.size(streamKey) };
  }

  getStats(): { activeStreams: number; totalViewers: number; streamDetails: { streamKey: string; viewers: number; kind: StreamKind; live: boolean }[] } {
    const details = this.streams.all().map((s) => ({ streamKey: redactKey(s.key), viewers: s.members.size - s.pending, kind: s.kind, live: s.live }));
    return { activeStreams: details.length, totalViewers: details.reduce((n, d) => n + d.viewers, 0), streamDetails: details };
  }

  /** Frames sent and skipped (backpressure) per viewer of a stream on this node. */
  viewerStats(streamKey: string): { socketId: string; sent: number; skipped: number }[] {
    return [...(this.streams.get(streamKey)?.members.values() ?? [])].map((m) => ({ socketId: m.socket.id, sent: m.sent, skipped: m.skipped }));
  }

  /**
   * Shutdown: end the streams streamed from here; viewers of other streams are only dropped
   * (not told "ended": the stream goes on, they reconnect to another node and join again).
   */
  async close(): Promise<void> {
    for (const ls of this.streams.all()) {
      if (ls.owner) await this.socketStreams.streamerLeft(ls.key, ls.owner.id, 'server_shutdown').catch(() => {});
      else this.viewers.endAll(ls, 'server_shutdown', false);
    }
  }
}
