// StreamDistributor (seeds 002/004): this node's side of every stream it streams or watches.
// A streamer's frame is encoded once (fast-emit.ts) and written to each local viewer, except
// viewers whose connection still holds more than `maxBacklogBytes` not yet taken by the
// kernel: they skip frames rather than queue them (bounded memory per viewer).
// It is pushed to the Redis catch-up ring and published once on the stream's channel, from
// which every other node with viewers emits it to its own room the same way. Server-rendered streams come from
// the FeedHub frame bus. Lifecycle and viewer counts travel on the cluster events channel.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Server, Socket } from 'socket.io';
import { keys } from '../keys.js';
import { log, redactKey, errMessage } from '../logger.js';
import type { BusFrame } from '../streams/bus.js';
import type { FeedHub } from '../streams/feed.js';
import { MemoryRing, RedisCatchup, type RingLimits } from './catchup.js';
import type { ClusterEvent, ClusterState, RegistryEntry } from './cluster.js';
import {
  RtError,
  frameBytes,
  room,
  ownerRoom,
  type ClientToServerEvents,
  type InterServerEvents,
  type ServerToClientEvents,
  type SocketData,
  type StreamFrame,
  type StreamInfo,
  type StreamKind,
} from './protocol.js';
import { decodeWire, encodeWire, toStreamFrame } from './wire.js';
import { backlog, bufferParts, preEncode, sendPreEncoded, type PreEncoded } from './delivery.js';

const logger = log('REALTIME');

export type RtServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type RtSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface DistributorOptions {
  /** 'bus': one Redis publish per frame, each node emits to its local room (default).
   *  'adapter': io.to(room) through the socket.io Redis adapter (kept to compare). */
  fanout: 'bus' | 'adapter';
  limits: RingLimits;
  /** Bytes of one stream's frames allowed in flight to Redis before frames skip Redis. */
  maxInflightBytes: number;
  /** A viewer whose connection holds more than this, or two frames (bytes not yet sent), skips frames. */
  maxBacklogBytes: number;
  /** Viewer-count pushes per stream per node are at most one per this many ms. */
  viewersEveryMs: number;
}

interface Member {
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

interface LocalStream {
  key: string;
  kind: StreamKind;
  sid: string;
  /** The streamer's socket when it is on this node. */
  owner: RtSocket | null;
  streamer: string | null;
  live: boolean;
  seq: number;
  members: Map<string, Member>;
  pending: number;
  ring: MemoryRing | null;
  clusterViewers: number;
  subscribed: boolean;
  inflight: number;
  skippedRedis: number;
  viewersTimer: NodeJS.Timeout | null;
  viewersAt: number;
}

export class StreamDistributor {
  private readonly streams = new Map<string, LocalStream>();
  /** This node's tag in frames it publishes (it skips its own frames on the channel). */
  readonly nodeTag = crypto.randomBytes(4).readUInt32BE(0);
  private readonly framePrefix = keys.rtFrames('');

  constructor(
    private readonly io: RtServer,
    private readonly cluster: ClusterState,
    private readonly catchup: RedisCatchup,
    private readonly sub: Redis,
    private readonly feed: FeedHub,
    private readonly opts: DistributorOptions,
  ) {}

  private local(key: string, kind: StreamKind, sid: string, streamer: string | null, live: boolean): LocalStream {
    let ls = this.streams.get(key);
    if (!ls) {
      ls = {
        key, kind, sid, owner: null, streamer, live, seq: 0, members: new Map(), pending: 0,
        ring: kind === 'server' ? new MemoryRing(this.opts.limits) : null,
        clusterViewers: 0, subscribed: false, inflight: 0, skippedRedis: 0, viewersTimer: null, viewersAt: 0,
      };
      this.streams.set(key, ls);
    }
    return ls;
  }

  // ---- streamer side -------------------------------------------------------------------

  /** A new socket stream owned by `owner` (created, not live yet). */
  async registerStream(streamKey: string, owner: RtSocket): Promise<void> {
    const ls = this.local(streamKey, 'socket', crypto.randomUUID(), owner.data.user?.username ?? null, false);
    ls.owner = owner;
    owner.join(ownerRoom(streamKey));
    await this.cluster.putStream(streamKey, this.entry(ls), false);
  }

  private entry(ls: LocalStream): RegistryEntry {
    return { sid: ls.sid, node: this.cluster.nodeId, streamer: ls.streamer ?? '', live: ls.live, createdAt: Date.now(), startedAt: ls.live ? Date.now() : null };
  }

  private owned(streamKey: string, socketId: string): LocalStream {
    const ls = this.streams.get(streamKey);
    if (!ls || ls.owner?.id !== socketId) throw new RtError('not_stream_owner', 'only the streamer registered for this stream key may do that');
    return ls;
  }

  /** Mark live (again, after an end: a new session) and tell the room. */
  async startStream(streamKey: string, socketId: string): Promise<StreamInfo> {
    const ls = this.owned(streamKey, socketId);
    if (!ls.live) this.goLive(ls);
    return this.info(ls);
  }

  private goLive(ls: LocalStream): void {
    const restarted = ls.sid === '';
    if (restarted) ls.sid = crypto.randomUUID();
    ls.live = true;
    this.io.local.to(room(ls.key)).emit('stream:started', { stream: this.info(ls) });
    this.cluster.putStream(ls.key, this.entry(ls), true).catch((err) => logger.warn(`register ${redactKey(ls.key)}: ${errMessage(err)}`));
    logger.info(`stream ${redactKey(ls.key)} live (streamer ${ls.streamer})`);
  }

  /** End a socket stream: its viewers everywhere get `stream:ended`. Owner or shutdown only. */
  async unregisterStream(streamKey: string, reason: string, socketId?: string): Promise<void> {
    const ls = socketId ? this.owned(streamKey, socketId) : this.streams.get(streamKey);
    if (!ls || ls.kind !== 'socket') return;
    const sid = ls.sid;
    this.endLocal(ls, reason);
    ls.sid = ''; // a later start is a new session
    ls.live = false;
    this.catchup.forget(streamKey);
    await this.cluster.endStream(streamKey, sid, reason);
  }

  /** The streamer's socket is gone: end its stream and forget it on this node. */
  async streamerLeft(streamKey: string, socketId: string, reason: string): Promise<void> {
    const ls = this.streams.get(streamKey);
    if (!ls || ls.owner?.id !== socketId) return;
    const sid = ls.sid;
    ls.owner = null;
    this.endLocal(ls, reason);
    this.catchup.forget(streamKey);
    await this.cluster.endStream(streamKey, sid, reason);
  }

  /** Send one frame of `streamerId`'s stream to every viewer; returns the viewers reached. */
  distributeStreamData(streamKey: string, data: string | Buffer, streamerId: string): { seq: number; viewers: number } {
    const ls = this.owned(streamKey, streamerId);
    if (!ls.live) this.goLive(ls); // data before stream:start: an implicit start
    const frame: StreamFrame = { streamKey, data, timestamp: Date.now(), seq: ++ls.seq };
    if (this.opts.fanout === 'adapter') this.io.to(room(streamKey)).volatile.emit('stream:data', frame);
    else this.deliver(ls, frame);
    const encoded = encodeWire({ seq: frame.seq, ts: frame.timestamp, origin: this.nodeTag, data });
    if (ls.inflight + encoded.length <= this.opts.maxInflightBytes) {
      ls.inflight += encoded.length;
      const channel = this.opts.fanout === 'bus' ? keys.rtFrames(streamKey) : null;
      this.catchup
        .push(streamKey, encoded, channel)
        .catch((err) => this.warnOnce(`frames of ${redactKey(streamKey)} do not reach Redis (other nodes and late joiners miss them): ${errMessage(err)}`))
        .finally(() => (ls.inflight -= encoded.length));
    } else {
      ls.skippedRedis += 1; // Redis is behind: remote viewers skip this frame
    }
    return { seq: frame.seq, viewers: Math.max(ls.clusterViewers, ls.members.size - ls.pending) };
  }

  private warnedAt = 0;

  /** One line per outage, not one per frame. */
  private warnOnce(msg: string): void {
    if (Date.now() - this.warnedAt < 30_000) return;
    this.warnedAt = Date.now();
    logger.warn(msg);
  }

  /** Registry entries of the live or waiting streams streamed from this node (re-put by the heartbeat). */
  ownedEntries(): [string, RegistryEntry][] {
    return [...this.streams.values()].filter((s) => s.owner && s.sid).map((s) => [s.key, this.entry(s)]);
  }

  /** The frame, encoded once, to every joined viewer here but those that are behind. */
  private deliver(ls: LocalStream, frame: StreamFrame): void {
    const limit = Math.max(this.opts.maxBacklogBytes, 2 * frameBytes(frame.data));
    let pre: PreEncoded | null = null;
    for (const m of ls.members.values()) {
      if (!m.joined) {
        if (m.held.length < this.opts.limits.frames * 2) m.held.push(frame);
      } else if (frame.seq <= m.lastSeq && !ls.ring) {
        // already had it, in the catch-up (socket streams: our own, monotonic seq; a worker's
        // may start again from 0 after a takeover)
      } else if (backlog(m.socket) > limit) {
        m.skipped += 1;
      } else {
        m.lastSeq = frame.seq;
        m.sent += 1;
        sendPreEncoded(m.socket, (pre ??= preEncode(this.io, 'stream:data', frame)));
      }
    }
  }

  // ---- viewer side ---------------------------------------------------------------------

  /** Join: `stream:joined`, then `stream:buffer` (catch-up, oldest first), then live frames. */
  async addViewer(streamKey: string, socket: RtSocket): Promise<StreamInfo> {
    if (socket.data.viewing === streamKey) {
      const cur = this.streams.get(streamKey);
      if (cur?.members.get(socket.id)?.joined) return this.info(cur);
    }
    if (socket.data.viewing) await this.removeViewer(socket.data.viewing, socket.id);
    let ls = this.streams.get(streamKey);
    if (!ls || (!ls.live && !ls.owner && ls.kind === 'socket')) {
      const found = await this.cluster.lookup(streamKey);
      if (!found) throw new RtError('stream_not_found', `no stream with key ${redactKey(streamKey)} (not started, or ended)`);
      ls = this.local(streamKey, found.kind, found.sid, found.streamer, found.live);
    }
    if (ls.kind === 'socket' && !ls.owner && !ls.sid) throw new RtError('stream_not_found', 'stream ended');
    const m: Member = { socket, joined: false, counted: true, held: [], lastSeq: -1, sent: 0, skipped: 0 };
    ls.members.set(socket.id, m);
    ls.pending += 1;
    socket.data.viewing = streamKey;
    let frames: StreamFrame[];
    try {
      const total = await this.cluster.viewerDelta(streamKey, 1);
      if (total < 0) {
        m.counted = false;
        throw new RtError('stream_not_found', `no stream with key ${redactKey(streamKey)} (ended)`);
      }
      ls.clusterViewers = Math.max(ls.clusterViewers, total);
      await this.ensureSubscribed(ls);
      frames = ls.ring ? ls.ring.snapshot() : await this.catchup.read(streamKey);
      if (this.streams.get(streamKey) !== ls || ls.members.get(socket.id) !== m || !socket.connected) {
        throw new RtError('stream_not_found', 'the stream ended, or you left, while joining');
      }
    } catch (err) {
      this.detach(ls, m);
      throw err;
    }
    // From here on, synchronous: nothing can slip between the catch-up and the live frames.
    let last = frames.length ? frames[frames.length - 1].seq : -1;
    const info = this.info(ls);
    socket.emit('stream:joined', { stream: info });
    for (const part of bufferParts(frames)) socket.emit('stream:buffer', { streamKey, frames: part.frames, part: part.part, parts: part.parts });
    if (!ls.ring) {
      for (const f of m.held) {
        if (f.seq <= last) continue;
        socket.emit('stream:data', f);
        last = f.seq;
      }
    }
    m.lastSeq = last;
    m.held = [];
    m.joined = true;
    ls.pending -= 1;
    socket.join(room(streamKey));
    return info;
  }

  async removeViewer(streamKey: string, socketId: string): Promise<boolean> {
    const ls = this.streams.get(streamKey);
    const m = ls?.members.get(socketId);
    if (!ls || !m) return false;
    await this.detach(ls, m);
    return true;
  }

  private async detach(ls: LocalStream, m: Member): Promise<void> {
    if (ls.members.get(m.socket.id) !== m) return;
    ls.members.delete(m.socket.id);
    if (!m.joined) ls.pending -= 1;
    m.socket.leave(room(ls.key));
    if (m.socket.data.viewing === ls.key) m.socket.data.viewing = null;
    this.release(ls);
    if (m.counted) {
      m.counted = false;
      await this.cluster.viewerDelta(ls.key, -1).catch((err) => logger.warn(`viewer count: ${errMessage(err)}`));
    }
  }

  private async ensureSubscribed(ls: LocalStream): Promise<void> {
    if (ls.subscribed || ls.owner) return;
    if (ls.kind === 'socket' && this.opts.fanout !== 'bus') return;
    ls.subscribed = true;
    if (ls.kind === 'server') await this.feed.watch(ls.key);
    else await this.sub.subscribe(keys.rtFrames(ls.key));
  }

  /** Nobody left here for a stream this node does not stream: drop it and its subscription. */
  private release(ls: LocalStream): void {
    if (ls.owner || ls.members.size > 0 || this.streams.get(ls.key) !== ls) return;
    this.streams.delete(ls.key);
    if (ls.viewersTimer) clearTimeout(ls.viewersTimer);
    if (!ls.subscribed) return;
    ls.subscribed = false;
    const done = ls.kind === 'server' ? this.feed.unwatch(ls.key) : this.sub.unsubscribe(keys.rtFrames(ls.key));
    done.catch((err) => logger.warn(`unsubscribe ${redactKey(ls.key)}: ${errMessage(err)}`));
  }

  /** Tell this node's viewers (and its streamer) that the stream ended; they leave the room. */
  private endLocal(ls: LocalStream, reason: string, notify = true): void {
    const msg = { streamKey: ls.key, reason };
    for (const m of [...ls.members.values()]) {
      if (m.joined && notify) m.socket.emit('stream:ended', msg);
      m.counted = false; // the end took the counts out of Redis
      ls.members.delete(m.socket.id);
      m.socket.leave(room(ls.key));
      if (m.socket.data.viewing === ls.key) m.socket.data.viewing = null;
    }
    ls.pending = 0;
    ls.clusterViewers = 0;
    if (notify) ls.owner?.emit('stream:ended', msg);
    this.cluster.forget(ls.key);
    if (ls.members.size === 0) this.release(ls);
    if (notify) logger.info(`stream ${redactKey(ls.key)} ended (${reason})`);
  }

  // ---- inputs from Redis ---------------------------------------------------------------

  /** A frame on a socket stream's channel (from the node of its streamer). */
  onBusFrame(channel: string, message: Buffer): void {
    if (!channel.startsWith(this.framePrefix)) return;
    const ls = this.streams.get(channel.slice(this.framePrefix.length));
    if (!ls || ls.owner) return;
    const w = decodeWire(message);
    if (!w || w.origin === this.nodeTag) return;
    this.deliver(ls, toStreamFrame(ls.key, w));
  }

  /** A server-rendered frame from the FeedHub (every stream this node's bus subscription has). */
  onServerFrame(streamKey: string, f: BusFrame): void {
    const ls = this.streams.get(streamKey);
    if (!ls?.ring) return;
    const frame: StreamFrame = { streamKey, data: f.jpeg, timestamp: f.ts, seq: f.seq };
    ls.ring.push(frame);
    this.deliver(ls, frame);
  }

  /** A server-rendered stream ended (bus event or its state hash went inactive). */
  onServerEnded(streamKey: string, reason: string, taskId?: string): void {
    const ls = this.streams.get(streamKey);
    if (!ls || ls.kind !== 'server' || (taskId && ls.sid && taskId !== ls.sid)) return;
    this.endLocal(ls, reason);
    this.cluster.dropViewers(streamKey).catch((err) => logger.warn(`viewer count: ${errMessage(err)}`));
  }

  onClusterEvent(ev: ClusterEvent): void {
    const ls = this.streams.get(ev.streamKey);
    if (!ls) return;
    if (ev.type === 'viewers') {
      ls.clusterViewers = ev.count;
      this.pushViewers(ls);
    } else if (ev.type === 'started') {
      if (ls.owner || ls.kind !== 'socket') return;
      ls.sid = ev.sid;
      ls.live = true;
      this.io.local.to(room(ls.key)).emit('stream:started', { stream: this.info(ls) });
    } else if (ev.type === 'ended') {
      if (ls.kind !== 'socket' || ls.owner || (ev.sid && ls.sid && ev.sid !== ls.sid)) return;
      this.endLocal(ls, ev.reason);
    }
  }

  /** Coalesced: at most one `stream:viewers` per stream per node per interval, the latest count. */
  private pushViewers(ls: LocalStream): void {
    if (ls.viewersTimer) return;
    const wait = Math.max(0, ls.viewersAt + this.opts.viewersEveryMs - Date.now());
    ls.viewersTimer = setTimeout(() => {
      ls.viewersTimer = null;
      ls.viewersAt = Date.now();
      if (this.streams.get(ls.key) !== ls) return;
      this.io.local.to([room(ls.key), ownerRoom(ls.key)]).emit('stream:viewers', { streamKey: ls.key, count: ls.clusterViewers });
    }, wait);
    ls.viewersTimer.unref?.();
  }

  /** Server-rendered streams this node watches, for the state check. */
  watchedServerStreams(): string[] {
    return [...this.streams.values()].filter((s) => s.kind === 'server').map((s) => s.key);
  }

  info(ls: LocalStream): StreamInfo {
    return { streamKey: ls.key, kind: ls.kind, live: ls.live, streamer: ls.streamer, viewers: Math.max(ls.clusterViewers, ls.members.size) };
  }

  // ---- statistics (this node; the cluster's come from ClusterState) ---------------------

  getStreamStats(streamKey: string): { viewerCount: number; bufferSize: number } {
    const ls = this.streams.get(streamKey);
    if (!ls) return { viewerCount: 0, bufferSize: 0 };
    return { viewerCount: ls.members.size - ls.pending, bufferSize: ls.ring ? ls.ring.size : this.catchup.size(streamKey) };
  }

  getStats(): { activeStreams: number; totalViewers: number; streamDetails: { streamKey: string; viewers: number; kind: StreamKind; live: boolean }[] } {
    const details = [...this.streams.values()].map((s) => ({ streamKey: redactKey(s.key), viewers: s.members.size - s.pending, kind: s.kind, live: s.live }));
    return { activeStreams: details.length, totalViewers: details.reduce((n, d) => n + d.viewers, 0), streamDetails: details };
  }

  /**
   * Shutdown: end the streams streamed from here; viewers of other streams are only dropped
   * (not told "ended": the stream goes on, they reconnect to another node and join again).
   */
  async close(): Promise<void> {
    for (const ls of [...this.streams.values()]) {
      if (ls.owner) await this.streamerLeft(ls.key, ls.owner.id, 'server_shutdown').catch(() => {});
      else this.endLocal(ls, 'server_shutdown', false);
    }
  }
}

