// What every web node shares in Redis: the registry of socket.io streams, viewer counts per
// stream (per node too, so a dead node's viewers can be taken back), and one heartbeat per
// node carrying its connected-socket count. Scripts (src/redis/lua/cluster-*.lua) keep each change
// atomic and publish the resulting count on the events channel in the same step, so every node
// sees counts in order.
import os from 'node:os';
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { log, redactKey, errMessage } from '../logger.js';
import { defineScripts, type RedisScripts } from '../redis/index.js';
import type { StreamKind } from './protocol.js';

const logger = log('REALTIME');

export interface RegistryEntry {
  sid: string;
  node: string;
  streamer: string;
  live: boolean;
  createdAt: number;
  startedAt: number | null;
}

export type ClusterEvent =
  | { type: 'viewers'; streamKey: string; count: number }
  | { type: 'started'; streamKey: string; sid: string }
  | { type: 'ended'; streamKey: string; sid: string; reason: string };

export interface Found {
  kind: StreamKind;
  sid: string;
  live: boolean;
  streamer: string | null;
}

export interface StreamDetail {
  streamKey: string;
  kind: StreamKind;
  live: boolean;
  viewers: number;
  bufferSize: number | null;
}

export interface ClusterStats {
  activeStreams: number;
  connectedUsers: number;
  distribution: { activeStreams: number; totalViewers: number; streamDetails: StreamDetail[]; nodes: number };
  scope: 'cluster';
}

const NV_PREFIX = keys.rtNodeViewers('');
const CATCHUP_PREFIX = keys.catchup('');

export class ClusterState {
  /** Viewer counts this node has asked Redis to hold (what RESYNC asserts). */
  private readonly counted = new Map<string, number>();
  private readonly scripts: RedisScripts;

  constructor(
    private readonly redis: Redis,
    readonly nodeId: string,
    private readonly ttlMs: number,
  ) {
    this.scripts = defineScripts(redis);
  }

  private endArgs(): [string, string, string] {
    return [NV_PREFIX, CATCHUP_PREFIX, keys.rtEvents()];
  }

  async putStream(streamKey: string, entry: RegistryEntry, announce: boolean): Promise<void> {
    const m = this.redis.multi().hset(keys.rtStreams(), streamKey, JSON.stringify(entry));
    if (announce) m.publish(keys.rtEvents(), JSON.stringify({ type: 'started', streamKey, sid: entry.sid } satisfies ClusterEvent));
    await m.exec();
  }

  /** Ends a socket stream if it is still session `sid`; every node hears `ended`. */
  async endStream(streamKey: string, sid: string, reason: string): Promise<boolean> {
    const r = await this.scripts.clusterEnd([keys.rtStreams(), keys.rtViewers(), keys.rtNodes()], [...this.endArgs(), streamKey, sid, reason]);
    return r === 1;
  }

  /** A socket stream in the registry, or a server-rendered one whose state hash is active. */
  async lookup(streamKey: string): Promise<Found | null> {
    const [[, raw], [, state]] = (await this.redis
      .pipeline()
      .hget(keys.rtStreams(), streamKey)
      .hmget(keys.state(streamKey), 'active', 'task_id')
      .exec()) as [[unknown, string | null], [unknown, (string | null)[]]];
    if (raw) {
      const e = JSON.parse(raw) as RegistryEntry;
      return { kind: 'socket', sid: e.sid, live: e.live, streamer: e.streamer };
    }
    if (state?.[0] === 'true') return { kind: 'server', sid: state[1] ?? '', live: true, streamer: null };
    return null;
  }

  /** +1/-1 viewer of a stream on this node; the cluster total, or -1 when the stream is gone. */
  async viewerDelta(streamKey: string, delta: 1 | -1): Promise<number> {
    this.counted.set(streamKey, (this.counted.get(streamKey) ?? 0) + delta);
    const total = await this.scripts.clusterDelta(
      [keys.rtStreams(), keys.state(streamKey), keys.rtViewers(), keys.rtNodeViewers(this.nodeId)],
      [streamKey, delta, keys.rtEvents()],
    );
    if (total < 0) this.counted.set(streamKey, (this.counted.get(streamKey) ?? 0) - delta);
    if ((this.counted.get(streamKey) ?? 0) <= 0) this.counted.delete(streamKey);
    return total;
  }

  /** The stream ended: its counts are gone (socket: the END script; server: dropViewers). */
  forget(streamKey: string): void {
    this.counted.delete(streamKey);
  }

  /** A server-rendered stream ended: take this node's viewers of it out of the totals. */
  async dropViewers(streamKey: string): Promise<void> {
    this.counted.delete(streamKey);
    await this.resync();
  }

  private async resync(): Promise<void> {
    const pairs = [...this.counted].flatMap(([k, n]) => [k, n]);
    await this.scripts.clusterResync([keys.rtStreams(), keys.rtViewers(), keys.rtNodeViewers(this.nodeId)], [keys.rtEvents(), ...pairs]);
  }

  /**
   * Refresh this node's heartbeat, its streams' registry entries (HSETNX: only if Redis lost
   * them) and its viewer counts, then take back the nodes that stopped beating.
   */
  async heartbeat(users: number, owned: [string, RegistryEntry][] = []): Promise<void> {
    const m = this.redis
      .multi()
      .set(keys.rtNode(this.nodeId), String(users), 'PX', this.ttlMs)
      .hset(keys.rtNodes(), this.nodeId, JSON.stringify({ pid: process.pid, host: os.hostname(), at: Date.now() }));
    for (const [key, entry] of owned) m.hsetnx(keys.rtStreams(), key, JSON.stringify(entry));
    await m.exec();
    await this.resync();
    const nodes = await this.redis.hkeys(keys.rtNodes());
    const alive = nodes.length ? await this.redis.mget(nodes.map((n) => keys.rtNode(n))) : [];
    for (let i = 0; i < nodes.length; i++) if (alive[i] === null) await this.reap(nodes[i]);
  }

  /** Users only (between heartbeats, when sockets come and go). */
  async setUsers(users: number): Promise<void> {
    await this.redis.set(keys.rtNode(this.nodeId), String(users), 'PX', this.ttlMs);
  }

  async reap(nodeId: string): Promise<boolean> {
    const r = await this.scripts.clusterReap([keys.rtStreams(), keys.rtViewers(), keys.rtNodes()], [...this.endArgs(), nodeId, keys.rtNode(nodeId)]);
    if (r === 1 && nodeId !== this.nodeId) logger.warn(`web node ${nodeId} stopped beating: its viewers and streams were taken back`);
    return r === 1;
  }

  /** Leave the cluster cleanly (shutdown): as if dead, at once. */
  async unregister(): Promise<void> {
    this.counted.clear();
    await this.redis.del(keys.rtNode(this.nodeId));
    await this.reap(this.nodeId);
  }

  async stats(maxDetails = 100): Promise<ClusterStats> {
    const res = (await this.redis
      .pipeline()
      .hgetall(keys.rtStreams())
      .hgetall(keys.rtViewers())
      .hkeys(keys.rtNodes())
      .smembers(keys.active())
      .exec()) as [unknown, unknown][];
    const streams = res[0][1] as Record<string, string>;
    const viewers = res[1][1] as Record<string, string>;
    const nodes = res[2][1] as string[];
    const serverKeys = res[3][1] as string[];
    const alive = nodes.length ? await this.redis.mget(nodes.map((n) => keys.rtNode(n))) : [];
    let connectedUsers = 0;
    let liveNodes = 0;
    alive.forEach((v, i) => {
      if (v === null) this.reap(nodes[i]).catch((err) => logger.warn(`reap ${nodes[i]}: ${errMessage(err)}`));
      else {
        connectedUsers += Number(v) || 0;
        liveNodes += 1;
      }
    });
    const socketKeys = Object.keys(streams);
    const lens = socketKeys.length
      ? (((await socketKeys.reduce((p, k) => p.llen(keys.catchup(k)), this.redis.pipeline()).exec()) ?? []) as [unknown, number][])
      : [];
    const details: StreamDetail[] = socketKeys.map((k, i) => ({
      streamKey: redactKey(k),
      kind: 'socket',
      live: (JSON.parse(streams[k]) as RegistryEntry).live,
      viewers: Number(viewers[k] ?? 0),
      bufferSize: lens[i]?.[1] ?? 0,
    }));
    for (const k of serverKeys) {
      if (streams[k]) continue;
      details.push({ streamKey: redactKey(k), kind: 'server', live: true, viewers: Number(viewers[k] ?? 0), bufferSize: null });
    }
    details.sort((a, b) => b.viewers - a.viewers);
    const totalViewers = details.reduce((n, d) => n + d.viewers, 0);
    return {
      activeStreams: details.filter((d) => d.live).length,
      connectedUsers,
      distribution: { activeStreams: details.length, totalViewers, streamDetails: details.slice(0, maxDetails), nodes: liveNodes },
      scope: 'cluster',
    };
  }
}
