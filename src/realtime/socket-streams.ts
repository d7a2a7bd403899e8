// Socket streams: streams a STREAMER sends over socket.io. Its node owns the stream: the
// registry entry in Redis, the sequence numbers, and the frames' way out: to its own viewers
// (Delivery) and, encoded once (wire.ts), to the Redis catch-up ring and the stream's frame
// channel in one step, from which every other node with viewers delivers to its own room.
// Redis that falls behind costs remote viewers frames, never this node memory.
import crypto from 'node:crypto';
import { keys } from '../keys.js';
import { log, redactKey, errMessage } from '../logger.js';
import { logOnce } from '../redis/index.js';
import type { RedisCatchup } from './catchup.js';
import type { ClusterEvent, ClusterState, RegistryEntry } from './cluster.js';
import type { Delivery } from './delivery.js';
import type { SocketFanout } from './fanout.js';
import type { LocalStream, LocalStreams } from './local-streams.js';
import { RtError, ownerRoom, room, type RtServer, type RtSocket, type StreamFrame, type StreamInfo } from './protocol.js';
import type { ViewerCounts } from './viewer-counts.js';
import type { Viewers } from './viewers.js';
import { decodeWire, encodeWire, toStreamFrame } from './wire.js';

const logger = log('REALTIME');

export interface SocketStreamDeps {
  io: RtServer;
  streams: LocalStreams;
  viewers: Viewers;
  counts: ViewerCounts;
  delivery: Delivery;
  cluster: ClusterState;
  catchup: RedisCatchup;
  fanout: SocketFanout;
  /** Bytes of one stream's frames allowed in flight to Redis before frames skip Redis. */
  maxInflightBytes: number;
}

export class SocketStreams {
  /** This node's tag in frames it publishes (it skips its own frames on the channel). */
  readonly nodeTag = crypto.randomBytes(4).readUInt32BE(0);
  private readonly framePrefix = keys.rtFrames('');
  /** One line per outage, not one per frame (again after 30 s if it lasts). */
  private readonly redisOutage = logOnce({ warn: (msg) => logger.warn(msg), repeatMs: 30_000 });

  constructor(private readonly d: SocketStreamDeps) {}

  /** A new socket stream owned by `owner` (created, not live yet). */
  async register(streamKey: string, owner: RtSocket): Promise<void> {
    const ls = this.d.streams.ensure(streamKey, 'socket', crypto.randomUUID(), owner.data.user?.username ?? null, false);
    ls.owner = owner;
    owner.join(ownerRoom(streamKey));
    await this.d.cluster.putStream(streamKey, this.entry(ls), false);
  }

  /** Mark live (again, after an end: a new session) and tell the room. */
  async start(streamKey: string, socketId: string): Promise<StreamInfo> {
    const ls = this.owned(streamKey, socketId);
    if (!ls.live) this.goLive(ls);
    return this.d.streams.info(ls);
  }

  /** End a socket stream: its viewers everywhere get `stream:ended`. Owner or shutdown only. */
  async end(streamKey: string, reason: string, socketId?: string): Promise<void> {
    const ls = socketId ? this.owned(streamKey, socketId) : this.d.streams.get(streamKey);
    if (!ls || ls.kind !== 'socket') return;
    const sid = ls.sid;
    this.d.viewers.endAll(ls, reason);
    ls.sid = ''; // a later start is a new session
    ls.live = false;
    this.d.catchup.forget(streamKey);
    await this.d.cluster.endStream(streamKey, sid, reason);
  }

  /** The streamer's socket is gone: end its stream and forget it on this node. */
  async streamerLeft(streamKey: string, socketId: string, reason: string): Promise<void> {
    const ls = this.d.streams.get(streamKey);
    if (!ls || ls.owner?.id !== socketId) return;
    const sid = ls.sid;
    ls.owner = null;
    this.d.viewers.endAll(ls, reason);
    this.d.catchup.forget(streamKey);
    await this.d.cluster.endStream(streamKey, sid, reason);
  }

  /** One frame of `streamerId`'s stream to every viewer; returns its seq and the viewers reached. */
  send(streamKey: string, data: string | Buffer, streamerId: string): { seq: number; viewers: number } {
    const ls = this.owned(streamKey, streamerId);
    if (!ls.live) this.goLive(ls); // data before stream:start: an implicit start
    const frame: StreamFrame = { streamKey, data, timestamp: Date.now(), seq: ++ls.seq };
    this.d.fanout.emit(this.d.io, frame, () => this.d.delivery.deliver(ls, frame));
    const encoded = encodeWire({ seq: frame.seq, ts: frame.timestamp, origin: this.nodeTag, data });
    if (ls.inflight + encoded.length <= this.d.maxInflightBytes) {
      ls.inflight += encoded.length;
      this.d.catchup
        .push(streamKey, encoded, this.d.fanout.channel(streamKey))
        .catch((err) => this.redisOutage.fail(`frames of ${redactKey(streamKey)} do not reach Redis (other nodes and late joiners miss them): ${errMessage(err)}`))
        .finally(() => (ls.inflight -= encoded.length));
    } else {
      ls.skippedRedis += 1; // Redis is behind: remote viewers skip this frame
    }
    return { seq: frame.seq, viewers: this.d.counts.reached(ls) };
  }

  /** Registry entries of the live or waiting streams streamed from this node (re-put by the heartbeat). */
  ownedEntries(): [string, RegistryEntry][] {
    return this.d.streams.all().filter((s) => s.owner && s.sid).map((s) => [s.key, this.entry(s)]);
  }

  /** A frame on a socket stream's channel (from the node of its streamer). */
  onBusFrame(channel: string, message: Buffer): void {
    if (!channel.startsWith(this.framePrefix)) return;
    const ls = this.d.streams.get(channel.slice(this.framePrefix.length));
    if (!ls || ls.owner) return;
    const w = decodeWire(message);
    if (!w || w.origin === this.nodeTag) return;
    this.d.delivery.deliver(ls, toStreamFrame(ls.key, w));
  }

  /** `started`/`ended` of a socket stream streamed from another node. */
  onLifecycle(ev: Exclude<ClusterEvent, { type: 'viewers' }>): void {
    const ls = this.d.streams.get(ev.streamKey);
    if (!ls || ls.owner || ls.kind !== 'socket') return;
    if (ev.type === 'started') {
      ls.sid = ev.sid;
      ls.live = true;
      this.d.io.local.to(room(ls.key)).emit('stream:started', { stream: this.d.streams.info(ls) });
    } else if (!(ev.sid && ls.sid && ev.sid !== ls.sid)) {
      this.d.viewers.endAll(ls, ev.reason);
    }
  }

  private owned(streamKey: string, socketId: string): LocalStream {
    const ls = this.d.streams.get(streamKey);
    if (!ls || ls.owner?.id !== socketId) throw new RtError('not_stream_owner', 'only the streamer registered for this stream key may do that');
    return ls;
  }

  private goLive(ls: LocalStream): void {
    if (ls.sid === '') ls.sid = crypto.randomUUID(); // restarted: a new session
    ls.live = true;
    this.d.io.local.to(room(ls.key)).emit('stream:started', { stream: this.d.streams.info(ls) });
    this.d.cluster.putStream(ls.key, this.entry(ls), true).catch((err) => logger.warn(`register ${redactKey(ls.key)}: ${errMessage(err)}`));
    logger.info(`stream ${redactKey(ls.key)} live (streamer ${ls.streamer})`);
  }

  private entry(ls: LocalStream): RegistryEntry {
    return { sid: ls.sid, node: this.d.cluster.nodeId, streamer: ls.streamer ?? '', live: ls.live, createdAt: Date.now(), startedAt: ls.live ? Date.now() : null };
  }
}
