// The realtime layer: socket.io on the web HTTP server, shared across web nodes through Redis.
// attachRealtime(config, options) is the `attach` hook of startWeb (src/web-server.ts).
import crypto from 'node:crypto';
import type http from 'node:http';
import { Server } from 'socket.io';
import type { Config } from '../config.js';
import { keys } from '../keys.js';
import { logOnce, type RedisConnections } from '../redis/index.js';
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

/** `conns`: the process's Redis connections (the web role's; their opener closes them). */
export async function startRealtime(server: http.Server, feed: FeedHub, conns: RedisConnections, config: Config, opts: RealtimeOptions = {}): Promise<RealtimeHandle> {
  const nodeId = opts.nodeId ?? `${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const { redis, sub } = conns;
  // Every broadcast of the service is node-local (io.local): no adapter unless a fan-out asks for one.
  const adapter = opts.fanout?.adapter?.(redis, config.REDIS_URL) ?? null;

  const io: RtServer = new Server(server, {
    // A frame over the limit must reach the handler (an `error`, not a dropped connection).
    maxHttpBufferSize: config.MAX_FRAME_BYTES * 2 + 64 * 1024,
    ...(adapter ? { adapter: adapter.adapter } : {}),
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

  const offEvents = await sub.subscribe(keys.rtEvents(), (message) => {
    let ev: ClusterEvent;
    try {
      ev = JSON.parse(message.toString());
    } catch {
      return;
    }
    distributor.onClusterEvent(ev);
  });
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
  const beatOutage = logOnce({
    warn: (msg) => logger.warn(`realtime heartbeat failing (this node's users drop out of /health until Redis answers): ${msg}`),
    recovered: () => logger.info('realtime heartbeat restored'),
  });
  const beat = setInterval(
    () =>
      cluster
        .heartbeat(io.of('/').sockets.size, distributor.ownedEntries())
        .then(() => beatOutage.ok())
        .catch((err) => beatOutage.fail(errMessage(err))),
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
      await offEvents();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      adapter?.close();
    },
  };
}

/** The `attach` hook for startWeb: `startWeb(config, { attach: attachRealtime(config, { polls }) })`. */
export function attachRealtime(config: Config, opts: RealtimeOptions = {}) {
  return async (server: http.Server, deps: { feed: FeedHub; conns: RedisConnections; guard?: SocketGuard }) => {
    const rt = await startRealtime(server, deps.feed, deps.conns, config, { guard: deps.guard, ...opts });
    return { close: () => rt.close(), stats: () => rt.stats(), realtime: rt };
  };
}
