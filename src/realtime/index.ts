// The realtime layer: socket.io on the web HTTP server, shared across web nodes through Redis.
// attachRealtime(config, options) is the `attach` hook of startWeb (src/web-server.ts).
import crypto from 'node:crypto';
import type http from 'node:http';
import type { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Config } from '../config.js';
import { keys } from '../keys.js';
import { createRedis, waitReady } from '../redis.js';
import { log, errMessage } from '../logger.js';
import type { FeedHub } from '../streams/feed.js';
import { ClusterState, type ClusterEvent, type ClusterStats } from './cluster.js';
import { RedisCatchup, type RingLimits } from './catchup.js';
import { StreamDistributor } from './distributor.js';
import type { SocketFanout } from './fanout.js';
import { handleSocket } from './handlers.js';
import { VoteRelay, type PollPort } from './votes.js';
import { CATCHUP_FRAMES, type RtServer } from './protocol.js';
import type { SocketGuard } from '../security/socket-guard.js';

export type { PollPort } from './votes.js';
export type * from './protocol.js';
export type { SocketFanout } from './fanout.js';

const logger = log('REALTIME');

export interface RealtimeOptions {
  /** The poll service (vote:cast, poll:update); without it votes answer `no_poll`. */
  polls?: PollPort | null;
  /** How socket streams reach other nodes (default: the per-stream Redis frame channel, fanout.ts). */
  fanout?: SocketFanout;
  /** Catch-up ring bounds (defaults: 30 frames, max(8 MiB, 2 frames), 30 s). */
  catchup?: Partial<RingLimits>;
  /** Votes per second per socket (token bucket) and burst. Defaults 60 and 30. */
  voteRate?: number;
  voteBurst?: number;
  /** Minimum interval between `poll:update` broadcasts of one node (default 100 ms). */
  pollUpdateMs?: number;
  /** A viewer whose connection holds more unsent bytes than this skips frames or two frames (default 256 KiB). */
  maxBacklogBytes?: number;
  /** Name of this node in Redis (default: random). */
  nodeId?: string;
  /** issue 10: Origin, voter identity, budgets, streamer token (startWeb hands it in). */
  guard?: SocketGuard | null;
}

export interface RealtimeHandle {
  io: RtServer;
  distributor: StreamDistributor;
  nodeId: string;
  stats(): Promise<ClusterStats>;
  close(): Promise<void>;
}

export async function startRealtime(server: http.Server, feed: FeedHub, config: Config, opts: RealtimeOptions = {}): Promise<RealtimeHandle> {
  const nodeId = opts.nodeId ?? `${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const redis = createRedis(config.REDIS_URL, 'realtime');
  const adapterSub = createRedis(config.REDIS_URL, 'realtime-adapter-sub', { subscriber: true });
  const sub = createRedis(config.REDIS_URL, 'realtime-sub', { subscriber: true });
  await Promise.all([waitReady(redis, 5000), waitReady(adapterSub, 5000), waitReady(sub, 5000)]);

  const io: RtServer = new Server(server, {
    // A frame over the limit must reach the handler (an `error`, not a dropped connection).
    maxHttpBufferSize: config.MAX_FRAME_BYTES * 2 + 64 * 1024,
    adapter: createAdapter(redis, adapterSub, { key: keys.rtAdapter() }),
    ...(opts.guard ? { allowRequest: opts.guard.allowRequest } : {}),
  });
  if (opts.guard) {
    io.engine.on('initial_headers', opts.guard.initialHeaders);
    io.use(opts.guard.middleware);
  }
  const ttlMs = config.HEARTBEAT_TTL_SECONDS * 1000;
  const cluster = new ClusterState(redis, nodeId, ttlMs);
  const limits: RingLimits = {
    frames: opts.catchup?.frames ?? CATCHUP_FRAMES,
    bytes: opts.catchup?.bytes ?? Math.max(8 * 1024 * 1024, 2 * config.MAX_FRAME_BYTES),
    ageMs: opts.catchup?.ageMs ?? 30_000,
  };
  const distributor = new StreamDistributor(io, cluster, new RedisCatchup(redis, limits), sub, feed, {
    fanout: opts.fanout,
    limits,
    maxInflightBytes: Math.max(8 * 1024 * 1024, 4 * config.MAX_FRAME_BYTES),
    maxBacklogBytes: opts.maxBacklogBytes ?? 256 * 1024,
    viewersEveryMs: 250,
  });
  const votes = opts.polls ? new VoteRelay(io, opts.polls, opts.pollUpdateMs ?? 100) : null;

  sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    const ch = channel.toString();
    if (ch === keys.rtEvents()) {
      let ev: ClusterEvent;
      try {
        ev = JSON.parse(message.toString());
      } catch {
        return;
      }
      distributor.onClusterEvent(ev);
    } else distributor.onBusFrame(ch, message);
  });
  await sub.subscribe(keys.rtEvents());
  const offFrame = feed.onFrame((key, frame) => distributor.onServerFrame(key, frame));
  const offEnded = feed.onEnded((ev) => distributor.onServerEnded(ev.streamKey, ev.reason, ev.taskId));

  // Events can be missed (a worker killed without a word): check the watched streams' state.
  const stateTimer = setInterval(() => distributor.relayed.checkState(redis).catch((err) => logger.debug(`state check: ${errMessage(err)}`)), 2000);
  stateTimer.unref();

  // Connected sockets per node: a heartbeat with a TTL, written again soon after a change.
  let usersTimer: NodeJS.Timeout | null = null;
  const usersChanged = () => {
    usersTimer ??= setTimeout(() => {
      usersTimer = null;
      cluster.setUsers(io.of('/').sockets.size).catch(() => {});
    }, 200);
  };
  await cluster.heartbeat(0);
  let beatFailing = false;
  const beat = setInterval(
    () =>
      cluster
        .heartbeat(io.of('/').sockets.size, distributor.ownedEntries())
        .then(() => {
          if (beatFailing) logger.info('realtime heartbeat restored');
          beatFailing = false;
        })
        .catch((err) => {
          if (!beatFailing) logger.warn(`realtime heartbeat failing (this node's users drop out of /health until Redis answers): ${errMessage(err)}`);
          beatFailing = true;
        }),
    Math.max(1000, Math.floor(ttlMs / 3)),
  );
  beat.unref();

  const deps = {
    distributor,
    votes,
    maxFrameBytes: config.MAX_FRAME_BYTES,
    voteRate: opts.voteRate ?? 60,
    voteBurst: opts.voteBurst ?? 30,
    guard: opts.guard ?? null,
  };
  io.on('connection', (socket) => {
    handleSocket(socket, deps);
    usersChanged();
    socket.on('disconnect', usersChanged);
    const poll = votes?.current();
    if (poll) socket.emit('poll:update', { poll });
  });
  io.engine.on('connection_error', (err: { code: number; message: string }) => logger.debug(`engine.io connection error ${err.code}: ${err.message}`));
  logger.info(`socket.io attached (node ${nodeId}, fan-out ${opts.fanout?.name ?? 'bus'})`);

  let closed = false;
  return {
    io,
    distributor,
    nodeId,
    stats: () => cluster.stats(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(beat);
      clearInterval(stateTimer);
      if (usersTimer) clearTimeout(usersTimer);
      offFrame();
      offEnded();
      votes?.close();
      await distributor.close().catch((err) => logger.warn(`closing streams: ${errMessage(err)}`));
      await cluster.unregister().catch((err) => logger.warn(`leaving the cluster: ${errMessage(err)}`));
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await quit(redis);
      sub.disconnect();
      adapterSub.disconnect();
    },
  };
}

async function quit(r: Redis): Promise<void> {
  await r.quit().catch(() => r.disconnect());
}

/** The `attach` hook for startWeb: `startWeb(config, { attach: attachRealtime(config, { polls }) })`. */
export function attachRealtime(config: Config, opts: RealtimeOptions = {}) {
  return async (server: http.Server, deps: { feed: FeedHub; guard?: SocketGuard }) => {
    const rt = await startRealtime(server, deps.feed, config, { guard: deps.guard, ...opts });
    return { close: () => rt.close(), stats: () => rt.stats(), realtime: rt };
  };
}
