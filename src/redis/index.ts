// src/redis: the service's Redis plumbing. Design (issue 8, item 5):
//
// - One command client and one subscriber per process, opened by the composition root
//   (src/roles.ts, openRedis() in connections.ts) and handed down to every module that talks to
//   Redis; no module of src/ opens its own. `npm start` (src/main.ts) runs both roles in one
//   process on the same two connections. Exceptions, each with its reason: bee-queue opens its
//   own node_redis connections (src/queue.ts: a worker's blocking BRPOPLPUSH needs a connection
//   of its own, and handing our fail-fast client to bee-queue's callback-style calls is untried;
//   its script watcher does listen to our client), and the socket.io Redis adapter, now
//   benchmark-only (bench/realtime/adapter-fanout.ts), owns its subscriber.
// - The command client fails fast (`enableOfflineQueue: false`): with ioredis v6 a command sent
//   while the connection is away (connecting, reconnecting, closed) rejects at once with "Stream
//   isn't writeable and enableOfflineQueue options is false", which isDependencyDown() maps to
//   503. HTTP handlers want that answer at once, not after the retries run out; the worker's and
//   realtime heartbeats want a failed beat now (their every()/logOnce() say so once) rather than a
//   queue of stale beats written on reconnect; frames published during an outage are dropped,
//   never buffered. Nothing depends on a queued write surviving an outage: the stream job
//   restores its state after a restart (jobs/stop-signals.ts), heartbeats beat again.
// - The subscriber keeps ioredis's offline queue and unlimited retries: a SUBSCRIBE asked for
//   during an outage waits for the connection, and ioredis re-subscribes every channel itself
//   after a reconnect (autoResubscribe). Nobody subscribes on it directly: Subscriber
//   (subscriber.ts) is the one owner of its channels, reference-counted per channel.
// - Every Lua script is a named file in ./lua, registered with ioredis defineCommand by
//   defineScripts(client) (scripts.ts), called through its typed wrapper. No redis.eval/evalsha
//   elsewhere in src/ (test/architecture.test.ts checks); ioredis reloads scripts itself after a
//   restart (NOSCRIPT → EVAL).
// - Shared habits: logOnce() for "one line per outage", quit() to close with a fallback.
//   isDependencyDown() (Redis or Postgres away → 503) lives in src/errors.ts, the bottom layer.
//
// Redis Cluster: cluster-*.lua build key names inside the script (prefix .. node/key), which a
// cluster cannot route; kept as they are (same behaviour), to be redone if Cluster is ever needed.
export { createRedis, waitReady, nonEmpty, quit } from './client.js';
export { openRedis, type RedisConnections } from './connections.js';
export { Subscriber, type MessageHandler, type Unsubscribe } from './subscriber.js';
export { defineScripts, scriptSources, luaDir, SCRIPT_FILES, type RedisScripts, type ScriptName, type ScriptSignatures } from './scripts.js';
export { logOnce, type OutageLog, type OutageLogOptions } from './log-once.js';
