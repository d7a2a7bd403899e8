// src/redis: the service's Redis plumbing. Design (issue 8, item 5):
//
// - One command client and one subscriber per process. The composition root (src/roles.ts)
//   creates them with createRedis() and hands them down to every module that talks to Redis;
//   no module opens its own connection. Exceptions, each with its reason: bee-queue opens its own
//   (src/queue.ts), and a module that needs a blocking command or a client in a different mode
//   (a fail-fast client for HTTP reads) asks the root for it, which still owns its lifetime.
// - Every Lua script is a named file in ./lua, registered with ioredis defineCommand by
//   defineScripts(client) (scripts.ts), called through its typed wrapper. No redis.eval/evalsha
//   elsewhere; ioredis reloads scripts itself after a restart (NOSCRIPT → EVAL).
// - Shared habits: logOnce() for "one line per outage", quit() to close with a fallback.
//   isDependencyDown() (Redis or Postgres away → 503) lives in src/errors.ts, the bottom layer.
//
// Wave 1 moved the helpers here and copied every Lua script into ./lua (same KEYS, ARGV, reply);
// jobs/lease.ts, jobs/state.ts, polls/store.ts, realtime/catchup.ts and realtime/cluster-lua.ts
// still run their inline copies and open their own clients until wave 2 migrates them.
// Redis Cluster: cluster-*.lua build key names inside the script (prefix .. node/key), which a
// cluster cannot route; kept as they are (same behaviour), to be redone if Cluster is ever needed.
export { createRedis, waitReady, nonEmpty, quit } from './client.js';
export { defineScripts, scriptSources, luaDir, SCRIPT_FILES, type RedisScripts, type ScriptName, type ScriptSignatures } from './scripts.js';
export { logOnce, type OutageLog, type OutageLogOptions } from './log-once.js';
