// Every Redis key and channel the service uses. The `streaming:*` names are the Python
// version's contract (do not rename); everything of ours lives under `sf:`.
// The README's "Redis keys" table mirrors this file. bee-queue keeps its own keys under
// `<QUEUE_PREFIX>:<queue>:*` (default `bq:stream-start:*`, `bq:stream-stop:*`, `bq:stream-status:*`).

let defaultStreamKey = 'default';

/** The stream key that the parity endpoints (/stream/*) drive; set once from config. */
export function setDefaultStreamKey(key: string): void {
  defaultStreamKey = key;
}
export function getDefaultStreamKey(): string {
  return defaultStreamKey;
}

const isDefault = (streamKey: string) => streamKey === defaultStreamKey;

export const keys = {
  /** hash: state of one stream (Python fields + ours). */
  state: (streamKey: string) => (isDefault(streamKey) ? 'streaming:state' : `streaming:state:${streamKey}`),
  /** string "true", TTL 60 s: asks the stream's start job to stop. */
  stopRequested: (streamKey: string) =>
    isDefault(streamKey) ? 'streaming:stop_requested' : `streaming:stop_requested:${streamKey}`,
  /** set: stream keys that are active. */
  active: () => 'streaming:active',

  /** pub/sub channel (binary): encoded preview frames of one stream. */
  frames: (streamKey: string) => `sf:frames:${streamKey}`,
  /** string (binary), TTL 3 s: the newest frame of the bus, what an SSE client that joins gets at once. */
  lastFrame: (streamKey: string) => `sf:frames:last:${streamKey}`,
  /** string "1", TTL (streams/preview-watch.ts): a web node serves this stream's previews to someone (SSE, socket.io); absent: nobody watches, the worker previews at PREVIEW_IDLE_FPS. */
  previewWatched: (streamKey: string) => `sf:preview:watched:${streamKey}`,
  /** pub/sub channel (JSON): lifecycle events of all streams ({type, streamKey}). */
  events: () => 'sf:events',
  /** pub/sub channel: fast stop signal beside the stop key; message = stream key. */
  control: () => 'sf:control',
  /** pub/sub channel: a stream's destinations changed (fields `destinations` of its state hash); message = stream key. */
  destControl: () => 'sf:control:destinations',
  /** string, TTL: the worker that holds a running stream (its lease). */
  lease: (streamKey: string) => `sf:lease:${streamKey}`,
  /** string, TTL: the reconciler's lock (value = holder id); one reconciler runs at a time per queue prefix. */
  reconciler: (queuePrefix: string) => `sf:reconciler:${queuePrefix}`,
  /** string, TTL 24 h: a start task that ended because its stream was stopped (value = reason). */
  ended: (taskId: string) => `sf:ended:${taskId}`,
  /** zset: worker id → last heartbeat (ms). */
  workers: () => 'sf:workers',
  /** string JSON, TTL: a worker's heartbeat details. */
  worker: (workerId: string) => `sf:worker:${workerId}`,

  /** list (binary): catch-up ring of the last frames of a socket.io stream. */
  catchup: (streamKey: string) => `sf:catchup:${streamKey}`,
  /** hash: socket.io stream registry (streamKey → JSON {streamer, node, ...}). */
  rtStreams: () => 'sf:rt:streams',
  /** hash: viewer counts per stream across nodes. */
  rtViewers: () => 'sf:rt:viewers',
  /** hash: web nodes of the socket.io layer (nodeId → JSON {pid, host, startedAt}). */
  rtNodes: () => 'sf:rt:nodes',
  /** string, TTL: a web node's heartbeat; value = its connected socket count. */
  rtNode: (nodeId: string) => `sf:rt:node:${nodeId}`,
  /** hash: one web node's local viewer count per stream (undone by the reaper when it dies). */
  rtNodeViewers: (nodeId: string) => `sf:rt:node-viewers:${nodeId}`,
  /** pub/sub channel (binary): frames of a socket.io stream, published once by its streamer's node. */
  rtFrames: (streamKey: string) => `sf:rt:frames:${streamKey}`,
  /** pub/sub channel (JSON): socket.io stream lifecycle and viewer counts ({type, streamKey, ...}). */
  rtEvents: () => 'sf:rt:events',
  /** channel prefix of the socket.io Redis adapter (`sf:rt:io#/#...`). */
  rtAdapter: () => 'sf:rt:io',

  /** string: id of the current poll. */
  pollCurrent: () => 'sf:poll:current',
  /** string JSON: a poll's definition (question, options). */
  poll: (pollId: string | number) => `sf:poll:${pollId}`,
  /** hash: option → live count for a poll. */
  tally: (pollId: string | number) => `sf:tally:${pollId}`,
  /** set: voter ids that voted in a poll. */
  voters: (pollId: string | number) => `sf:voters:${pollId}`,
  /** pub/sub channel (JSON): poll updates (tallies, a poll closed, new poll). */
  pollEvents: () => 'sf:poll:events',
  /** string, TTL: the web node that runs the poll show (closes, reveals, opens the next); its lease. */
  pollShowLease: () => 'sf:poll:show:lease',

  // --- issue 10 (src/security/) ---
  /** string: the HMAC key of voter cookies, made once by the first web node (SET NX) unless VOTER_SECRET is set. */
  voterSecret: () => 'sf:secret:voter',
  /** prefix of the budget counters (security/budgets.ts): `sf:budget:<budget>:<key>` (votes, voters, control, sse, sockets). */
  budget: (name: string) => `sf:budget:${name}`,

  // --- issue 12 (src/chat/) ---
  /** string, TTL: the web node that runs the chat bridge of a channel (renewed while it runs). */
  chatLock: (channel: string) => `sf:chat:lock:${channel}`,
  /** string JSON, TTL: that bridge's state (connected, messages/s, votes, last error) for every node's /api/health. */
  chatState: (channel: string) => `sf:chat:state:${channel}`,
  /** pub/sub channel (JSON): bridge state, on change and every few seconds (the poll scene's "type !A in chat"). */
  chatStatus: () => 'sf:chat:status',
} as const;
