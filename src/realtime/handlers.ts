// One socket's events: every payload checked with its zod schema, identity checked on every
// privileged event, every refusal answered with `error {code, message}` (and `{ok:false}` on
// the ack when there is one). Nothing a client sends can throw out of here.
import crypto from 'node:crypto';
import type { z } from 'zod';
import { isDependencyDown } from '../errors.js';
import { log, errMessage, redactKey } from '../logger.js';
import {
  CLIENT_EVENTS,
  RtError,
  frameBytes,
  schemas,
  toBuffer,
  zodMessage,
  type ClientEvent,
  type RtErrorPayload,
  type RtSocket,
} from './protocol.js';
import type { StreamDistributor } from './distributor.js';
import type { VoteRelay } from './votes.js';
import { TokenBucket } from './rate-limit.js';
import type { SocketGuard } from '../security/socket-guard.js';

const logger = log('REALTIME');

export interface HandlerDeps {
  distributor: StreamDistributor;
  votes: VoteRelay | null;
  maxFrameBytes: number;
  voteRate: number;
  voteBurst: number;
  /** issue 10: handshake identity, budgets, who may stream (src/security/socket-guard.ts). */
  guard?: SocketGuard | null;
}

type AnyAck = (res: unknown) => void;

export function handleSocket(socket: RtSocket, d: HandlerDeps): void {
  socket.data.user = null;
  socket.data.ownedKey = null;
  socket.data.viewing = null;
  const votes = new TokenBucket(d.voteRate, d.voteBurst);
  // A client that keeps sending bad things gets its first errors, then silence (no echo storm).
  const errors = new TokenBucket(20, 20);
  // join/leave/disconnect of one socket run one after the other.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn, fn);
    queue = p.catch(() => {});
    return p;
  };

  const refuse = (event: string, err: unknown, ack?: AnyAck) => {
    let e: RtErrorPayload;
    if (err instanceof RtError) e = { code: err.code, message: err.message, event };
    else if (isDependencyDown(err)) {
      e = { code: 'unavailable', message: 'a backing service (Redis) is unavailable; try again shortly', event };
    } else {
      logger.error(`${event}: unexpected error: ${errMessage(err)}`, { stack: (err as Error)?.stack });
      e = { code: 'internal_error', message: 'internal error', event };
    }
    ack?.({ ok: false, error: e });
    if (errors.take()) socket.emit('error', e);
  };

  function on<E extends ClientEvent>(
    event: E,
    handler: (p: z.infer<(typeof schemas)[E]>) => object | void | Promise<object | void>,
  ): void {
    (socket as unknown as { on(e: string, l: (...a: unknown[]) => void): void }).on(event, (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as AnyAck) : undefined;
      const parsed = schemas[event].safeParse(args[0]);
      if (!parsed.success) return refuse(event, new RtError('invalid_payload', zodMessage(parsed.error)), ack);
      try {
        const r = handler(parsed.data as z.infer<(typeof schemas)[E]>);
        if (r instanceof Promise) r.then((v) => ack?.({ ok: true, ...(v ?? {}) }), (err) => refuse(event, err, ack));
        else ack?.({ ok: true, ...(r ?? {}) });
      } catch (err) {
        refuse(event, err, ack);
      }
    });
  }

  socket.onAny((event: string, ...args: unknown[]) => {
    if (CLIENT_EVENTS.has(event)) return;
    const ack = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as AnyAck) : undefined;
    refuse(event, new RtError('unknown_event', `unknown event "${event}"`), ack);
  });

  const requireUser = () => {
    if (!socket.data.user) throw new RtError('not_registered', 'send user:register first');
    return socket.data.user;
  };

  on('user:register', async ({ username, role }) => {
    if (socket.data.user) throw new RtError('already_registered', 'this connection is already registered');
    if (role === 'STREAMER' && d.guard && !d.guard.canStream(socket)) throw new RtError('unauthorized', 'registering as a STREAMER needs the API token (io({ auth: { token } }))');
    const user = { id: crypto.randomUUID(), username, role };
    socket.data.user = user;
    socket.emit('user:registered', { user });
    if (role === 'STREAMER') {
      const streamKey = crypto.randomBytes(12).toString('base64url');
      socket.data.ownedKey = streamKey;
      await d.distributor.registerStream(streamKey, socket);
      socket.emit('stream:created', { stream: { streamKey } });
      logger.info(`streamer ${username} registered stream ${redactKey(streamKey)}`);
    }
    return { user };
  });

  const requireOwner = (streamKey: string) => {
    const user = requireUser();
    if (user.role !== 'STREAMER') throw new RtError('not_streamer', 'only a STREAMER may do that');
    if (socket.data.ownedKey !== streamKey) throw new RtError('not_stream_owner', 'only the streamer registered for this stream key may do that');
  };

  on('stream:start', async ({ streamKey }) => {
    requireOwner(streamKey);
    const stream = await d.distributor.startStream(streamKey, socket.id);
    socket.emit('stream:started', { stream });
    return { stream };
  });

  on('stream:end', async ({ streamKey }) => {
    requireOwner(streamKey);
    await d.distributor.unregisterStream(streamKey, 'ended_by_streamer', socket.id);
  });

  on('stream:data:send', ({ streamKey, data }) => {
    requireOwner(streamKey);
    const payload = typeof data === 'string' ? data : toBuffer(data);
    const bytes = frameBytes(payload);
    if (bytes > d.maxFrameBytes) throw new RtError('frame_too_large', `frame of ${bytes} bytes is over the limit of ${d.maxFrameBytes}`);
    return d.distributor.distributeStreamData(streamKey, payload, socket.id);
  });

  on('stream:join', ({ streamKey }) =>
    serial(async () => {
      requireUser();
      return { stream: await d.distributor.addViewer(streamKey, socket) };
    }),
  );

  on('stream:leave', ({ streamKey }) =>
    serial(async () => {
      if (!(await d.distributor.removeViewer(streamKey, socket.id))) throw new RtError('stream_not_found', 'you are not watching that stream');
      socket.emit('stream:left', { streamKey });
    }),
  );

  on('vote:cast', async ({ option }) => {
    if (!d.votes) throw new RtError('no_poll', 'polls are not enabled on this server');
    if (!votes.take()) throw new RtError('rate_limited', `too many votes: at most ${d.voteRate} per second`);
    const relay = d.votes;
    // The voter is the handshake's signed cookie (never socket.id), within its address's budget.
    if (d.guard) await d.guard.castVote(socket, (voterId) => relay.cast(option, voterId));
    else await relay.cast(option, socket.data.user?.id ?? `socket:${socket.id}`);
    return { option };
  });

  on('poll:get', async () => ({ poll: d.votes ? await d.votes.current() : null }));

  socket.on('disconnect', (reason) => {
    void serial(async () => {
      const viewing = socket.data.viewing;
      if (viewing) await d.distributor.removeViewer(viewing, socket.id);
      const owned = socket.data.ownedKey;
      if (owned) await d.distributor.streamerLeft(owned, socket.id, 'streamer_disconnected');
    }).catch((err) => logger.warn(`cleanup after disconnect (${reason}): ${errMessage(err)}`));
  });
}
