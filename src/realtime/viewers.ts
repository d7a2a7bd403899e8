// Viewers of this node: join (with the catch-up), leave, and the end of a stream for them.
// A join is counted in Redis first (which also says whether the stream still exists), then
// the catch-up is read (Redis ring for socket streams, this node's ring for server-rendered
// ones) while live frames are held; from the catch-up on, everything is synchronous, so a
// viewer gets the last frames oldest first and then the live ones with no gap and no repeat.
import { log, redactKey, errMessage } from '../logger.js';
import { backlogOf } from './backlog.js';
import { bufferParts, type RedisCatchup } from './catchup.js';
import type { ClusterState } from './cluster.js';
import type { LocalStream, LocalStreams, Member } from './local-streams.js';
import { RtError, room, type RtSocket, type StreamFrame, type StreamInfo } from './protocol.js';

const logger = log('REALTIME');

export class Viewers {
  constructor(
    private readonly streams: LocalStreams,
    private readonly cluster: ClusterState,
    private readonly catchup: RedisCatchup,
  ) {}

  /** Join: `stream:joined`, then `stream:buffer` (catch-up, oldest first), then live frames. */
  async add(streamKey: string, socket: RtSocket): Promise<StreamInfo> {
    if (socket.data.viewing === streamKey) {
      const cur = this.streams.get(streamKey);
      if (cur?.members.get(socket.id)?.joined) return this.streams.info(cur);
    }
    if (socket.data.viewing) await this.remove(socket.data.viewing, socket.id);
    let ls = this.streams.get(streamKey);
    if (!ls || (!ls.live && !ls.owner && ls.kind === 'socket')) {
      const found = await this.cluster.lookup(streamKey);
      if (!found) throw new RtError('stream_not_found', `no stream with key ${redactKey(streamKey)} (not started, or ended)`);
      ls = this.streams.ensure(streamKey, found.kind, found.sid, found.streamer, found.live);
    }
    if (ls.kind === 'socket' && !ls.owner && !ls.sid) throw new RtError('stream_not_found', 'stream ended');
    const m: Member = { socket, joined: false, counted: true, held: [], lastSeq: -1, sent: 0, skipped: 0 };
    ls.members.set(socket.id, m);
    ls.pending += 1;
    socket.data.viewing = streamKey;
    backlogOf(socket); // track from here on: the catch-up counts
    let frames: StreamFrame[];
    try {
      const total = await this.cluster.viewerDelta(streamKey, 1);
      if (total < 0) {
        m.counted = false;
        throw new RtError('stream_not_found', `no stream with key ${redactKey(streamKey)} (ended)`);
      }
      ls.clusterViewers = Math.max(ls.clusterViewers, total);
      await this.streams.subscribe(ls);
      frames = ls.ring ? ls.ring.snapshot() : await this.catchup.read(streamKey);
      if (!this.streams.isCurrent(ls) || ls.members.get(socket.id) !== m || !socket.connected) {
        throw new RtError('stream_not_found', 'the stream ended, or you left, while joining');
      }
    } catch (err) {
      void this.detach(ls, m);
      throw err;
    }
    // From here on, synchronous: nothing can slip between the catch-up and the live frames.
    let last = frames.length ? frames[frames.length - 1].seq : -1;
    const info = this.streams.info(ls);
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

  async remove(streamKey: string, socketId: string): Promise<boolean> {
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
    this.streams.release(ls);
    if (m.counted) {
      m.counted = false;
      await this.cluster.viewerDelta(ls.key, -1).catch((err) => logger.warn(`viewer count: ${errMessage(err)}`));
    }
  }

  /** Tell this node's viewers (and its streamer) that the stream ended; they leave the room. */
  endAll(ls: LocalStream, reason: string, notify = true): void {
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
    if (ls.members.size === 0) this.streams.release(ls);
    if (notify) logger.info(`stream ${redactKey(ls.key)} ended (${reason})`);
  }
}
