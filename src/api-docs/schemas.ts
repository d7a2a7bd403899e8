// Response schemas of the HTTP API, for the OpenAPI document (request schemas stay beside
// their routes). The parity endpoints answer snake_case (the Python contract); the rest camelCase.
import { z } from 'zod';

const num = z.number();
const str = z.string();
const nstr = z.string().nullable();
const nnum = z.number().nullable();

export const errorBody = z.object({
  error: str.meta({ description: 'stable id: validation_error, bad_request, unauthorized, not_found, conflict, unavailable, …' }),
  message: str,
  details: z.unknown().optional(),
});

/** `GET /stream/status` and the 409 details of the parity endpoints (snake_case). */
export const streamStatus = z.looseObject({
  active: z.boolean(),
  fps: nnum,
  quality: nnum,
  task_id: nstr,
  host: nstr,
  port: nnum,
  started_at: nnum.meta({ description: 'unix seconds (float)' }),
  stream_key: str,
  screen_id: nstr,
  health: nstr,
  frames: num,
  dropped: num,
  restarts: num,
  last_error: nstr,
  worker_id: nstr,
  heartbeat_at: nnum,
  broadcast_fps: nnum,
});

export const startAnswer = z.object({
  success: z.literal(true),
  status: z.literal('starting'),
  message: str,
  task_id: str,
  stream_key: str,
  screen_id: str,
  fps: num,
  quality: num,
});

export const stopAnswer = z.object({
  success: z.literal(true),
  status: z.literal('stopping'),
  message: str,
  task_id: str,
  stream_task_id: str,
});

export const streamListItem = z.object({
  streamKey: str,
  screenId: nstr,
  fps: nnum,
  broadcastFps: nnum,
  quality: nnum,
  health: nstr,
  startedAt: nnum,
  frames: num,
  dropped: num,
  restarts: num,
  lastError: nstr,
  taskId: nstr,
  workerId: nstr,
});
const destinationView = z.object({
  id: str,
  name: str,
  url: str,
  health: z.enum(['starting', 'live', 'reconnecting', 'failed', 'stopped']),
  since: nnum,
  bytes: num,
  restarts: num,
  lastError: nstr,
});
export const streamDetail = streamListItem.extend({ active: z.boolean(), destinations: z.array(destinationView), hls: nstr });
export const destinationAdded = z.object({ success: z.literal(true), streamKey: str, id: str, name: str });
export const destinationRemoved = z.object({ success: z.literal(true), streamKey: str, id: str });
export const streamList = z.object({ streams: z.array(streamListItem), count: num });
export const streamCreated = z.object({ success: z.literal(true), streamKey: str, screenId: str, taskId: str });
export const streamWaiting = streamCreated.extend({ health: z.literal('waiting'), reason: str.meta({ description: '"no capacity"' }) });
export const streamDeleted = z.object({ success: z.literal(true), streamKey: str, taskId: str });

const pollOption = z.object({ key: str, label: str, votes: num, percent: num });
const pollWinner = z.object({ keys: z.array(str), labels: z.array(str), votes: num, tie: z.boolean() });
export const pollView = z.object({
  id: num,
  question: str,
  options: z.array(pollOption),
  total: num,
  createdAt: str,
  endsAt: nstr,
  closedAt: nstr,
  /** The show: voting → closed → reveal (the winner) → the next poll. */
  phase: z.enum(['voting', 'closed', 'reveal']).optional(),
  winner: pollWinner.nullable().optional(),
  revealAt: nstr.optional(),
  revealUntil: nstr.optional(),
});
export const pollList = z.object({ polls: z.array(pollView), nextBefore: nnum, page: num.optional(), limit: num });
const queuedPoll = z.object({ id: num, question: str, options: z.array(str), durationSeconds: nnum, createdAt: str });
export const pollQueue = z.object({ queue: z.array(queuedPoll) });
export const pollQueued = queuedPoll;
export const pollDequeued = z.object({ ok: z.literal(true), id: num });
export const pollClosed = z.object({ closed: pollView });
export const voteAnswer = z.object({ ok: z.literal(true), pollId: num, option: str, poll: pollView });
export const generateAnswer = z.object({ poll: pollView, closed: pollView.nullable() });

const check = z.looseObject({ ok: z.boolean(), ms: num.optional(), latencyMs: num.optional(), error: str.optional() });
export const apiHealth = z.looseObject({
  status: z.enum(['ok', 'degraded', 'error']),
  redis: check,
  queues: z.looseObject({ ok: z.boolean() }),
  workers: z.object({
    live: num,
    ids: z.array(str),
    capacity: z
      .array(
        z.object({
          id: str,
          streams: num,
          mode: z.enum(['measured', 'off', 'unknown']).meta({ description: 'measured: admission by CPU headroom; off: WORKER_CONCURRENCY alone; unknown: an older worker' }),
          headroom: num.optional().meta({ description: 'more streams the worker can take now at full rate' }),
          cores: num.optional(),
          cpuAvailable: nnum.optional().meta({ description: 'cores left for new streams after the safety margin (null until measured)' }),
          othersCores: nnum.optional().meta({ description: 'cores the machine\'s other processes take' }),
          costPerStream: num.optional().meta({ description: 'cores one stream costs (measured, configured or the default)' }),
          othersPerStream: nnum.optional().meta({ description: 'cores one more stream adds to the machine\'s other processes (RTMP server, web relay; learned, null until a stream came or went)' }),
          shedLevel: num.optional().meta({ description: '0 full rate; 1 previews slowed; 2 scene effects off too; 3-5 every broadcast rendered at a lower rate' }),
        }),
      )
      .meta({ description: 'issue 13: each live worker\'s capacity, from its heartbeat' }),
  }),
  activeStreams: nnum,
  uptimeSeconds: num,
});
export const hubHealth = z.looseObject({
  status: str,
  activeStreams: num,
  connectedUsers: num,
  distribution: z.looseObject({ activeStreams: num, totalViewers: num, streamDetails: z.array(z.looseObject({})) }),
  scope: str,
});

export const session = z.object({
  id: num,
  stream: str.meta({ description: 'the stream key, redacted (a stream key is a credential)' }),
  screenId: str,
  taskId: nstr,
  startedAt: str.meta({ description: 'ISO 8601' }),
  stoppedAt: nstr,
  durationSeconds: nnum,
  stopReason: nstr,
  frames: num,
  dropped: num,
  restarts: num,
  lastError: nstr,
});
export const sessionPage = z.object({
  sessions: z.array(session),
  total: num,
  limit: num,
  offset: num,
  nextOffset: nnum.meta({ description: 'offset of the next page; null on the last one' }),
});

export const statsAnswer = z.object({
  at: num.meta({ description: 'unix milliseconds of this answer' }),
  streams: z.array(
    z.object({
      stream: str.meta({ description: 'redacted stream key' }),
      health: nstr,
      fps: nnum.meta({ description: 'encoded fps of the broadcast (null: no broadcast; derive from frames)' }),
      bitrateKbps: nnum,
      frames: num,
      dropped: num,
      restarts: num,
      sseClients: num.meta({ description: 'on this web process' }),
      socketViewers: num.meta({ description: 'on this web process' }),
    }),
  ),
});
