// Every Lua script of the service, each a named `.lua` file in ./lua, registered on a client with
// ioredis `defineCommand`. ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT (and sends
// EVAL first on each new connection), so scripts survive a Redis restart or SCRIPT FLUSH with no
// code of ours. bee-queue keeps its `lib/lua/*.lua` the same way.
//
// The production build (`npm run build`) copies src/redis/lua/*.lua to dist/redis/lua/
// (scripts/build.mjs): tsc copies only what it compiles.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Redis } from 'ioredis';

type Arg = string | number | Buffer;

/** Name → file, number of KEYS, and files prepended to it (shared Lua functions). */
export const SCRIPT_FILES = {
  leaseHold: { file: 'lease-hold.lua', keys: 1 },
  leaseRelease: { file: 'lease-release.lua', keys: 1 },
  stateReserve: { file: 'state-reserve.lua', keys: 3 },
  stateUpdateIfOwner: { file: 'state-update-if-owner.lua', keys: 1 },
  stateClear: { file: 'state-clear.lua', keys: 5 },
  pollInit: { file: 'poll-init.lua', keys: 3 },
  pollApply: { file: 'poll-apply.lua', keys: 2 },
  catchupPush: { file: 'catchup-push.lua', keys: 1 },
  framePublish: { file: 'frame-publish.lua', keys: 1 },
  destAdd: { file: 'dest-add.lua', keys: 2 },
  destRemove: { file: 'dest-remove.lua', keys: 2 },
  clusterEnd: { file: 'cluster-end.lua', keys: 3, prelude: ['cluster-common.lua'] },
  clusterDelta: { file: 'cluster-delta.lua', keys: 4, prelude: ['cluster-common.lua'] },
  clusterResync: { file: 'cluster-resync.lua', keys: 3, prelude: ['cluster-common.lua'] },
  clusterReap: { file: 'cluster-reap.lua', keys: 3, prelude: ['cluster-common.lua'] },
  // keys 'any': as many KEYS as the caller passes (the wrapper sends their number first).
  budgetTake: { file: 'budget-take.lua', keys: 'any' },
} as const satisfies Record<string, { file: string; keys: number | 'any'; prelude?: readonly string[] }>;

export type ScriptName = keyof typeof SCRIPT_FILES;

/** KEYS, ARGV and reply of each script (the `.lua` file's header says what each one means). */
export interface ScriptSignatures {
  leaseHold: { keys: [lease: string]; args: [workerId: string, ttlMs: number]; reply: 0 | 1 };
  leaseRelease: { keys: [lease: string]; args: [workerId: string]; reply: 0 | 1 };
  stateReserve: {
    keys: [state: string, stopRequested: string, active: string];
    args: [streamKey: string, ...fieldValuePairs: string[]];
    reply: string[] | null;
  };
  stateUpdateIfOwner: { keys: [state: string]; args: [taskId: string, ...fieldValuePairs: string[]]; reply: 0 | 1 };
  stateClear: {
    keys: [state: string, stopRequested: string, active: string, lease: string, lastFrame: string];
    args: [taskId: string, streamKey: string, keepFailed: '0' | '1', nowSeconds: string];
    reply: 0 | 1;
  };
  pollInit: { keys: [tally: string, voters: string, poll: string]; args: [defJson: string, ...optionKeys: string[]]; reply: 0 | 1 };
  pollApply: { keys: [tally: string, voters: string]; args: string[]; reply: -1 | string[] };
  destAdd: { keys: [state: string, destControl: string]; args: [streamKey: string, destJson: string, max: number]; reply: 1 | -1 | -2 | -3 };
  destRemove: { keys: [state: string, destControl: string]; args: [streamKey: string, id: string]; reply: 1 | -1 | -4 };
  catchupPush: { keys: [list: string]; args: [frame: Buffer | string, keep: number, ageMs: number, publishTo: string]; reply: 1 };
  framePublish: { keys: [lastFrame: string]; args: [frame: Buffer, ttlMs: number, channel: string]; reply: number };
  clusterEnd: {
    keys: [streams: string, viewers: string, nodes: string];
    args: [nvPrefix: string, catchupPrefix: string, channel: string, streamKey: string, sid: string, reason: string];
    reply: 0 | 1;
  };
  clusterDelta: {
    keys: [streams: string, state: string, viewers: string, nodeViewers: string];
    args: [streamKey: string, delta: number, channel: string];
    reply: number;
  };
  clusterResync: {
    keys: [streams: string, viewers: string, nodeViewers: string];
    args: [channel: string, ...keyCountPairs: (string | number)[]];
    reply: 1;
  };
  clusterReap: {
    keys: [streams: string, viewers: string, nodes: string];
    args: [nvPrefix: string, catchupPrefix: string, channel: string, node: string, aliveKey: string];
    reply: 0 | 1;
  };
  budgetTake: { keys: string[]; args: (string | number)[]; reply: number[] };
}

/** Typed callers of every script on one client. */
export type RedisScripts = {
  [N in ScriptName]: (keys: ScriptSignatures[N]['keys'], args: ScriptSignatures[N]['args']) => Promise<ScriptSignatures[N]['reply']>;
};

/** Where the .lua files are: beside this module (tsx, or dist after the copy step), else src/. */
export function luaDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'lua'), path.join(here, '..', '..', 'src', 'redis', 'lua')];
  const found = candidates.find((d) => existsSync(path.join(d, SCRIPT_FILES.leaseHold.file)));
  if (!found) throw new Error(`Lua scripts not found in ${candidates.join(' or ')} (does the build copy src/redis/lua?)`);
  return found;
}

let sources: Record<ScriptName, string> | null = null;

/** The full Lua text of each script (prelude included), read once. */
export function scriptSources(): Record<ScriptName, string> {
  if (sources) return sources;
  const dir = luaDir();
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  const out = {} as Record<ScriptName, string>;
  for (const [name, def] of Object.entries(SCRIPT_FILES) as [ScriptName, { file: string; prelude?: readonly string[] }][]) {
    out[name] = [...(def.prelude ?? []).map(read), read(def.file)].join('\n');
  }
  return (sources = out);
}

const defined = new WeakMap<Redis, RedisScripts>();

/** Registers every script on `client` (once per client) and returns typed callers. */
export function defineScripts(client: Redis): RedisScripts {
  const known = defined.get(client);
  if (known) return known;
  const src = scriptSources();
  const out = {} as Record<ScriptName, (keys: Arg[], args: Arg[]) => Promise<unknown>>;
  for (const name of Object.keys(SCRIPT_FILES) as ScriptName[]) {
    const numberOfKeys = SCRIPT_FILES[name].keys;
    client.defineCommand(name, { lua: src[name], numberOfKeys: numberOfKeys === 'any' ? undefined : numberOfKeys });
    const command = (client as unknown as Record<string, (...a: Arg[]) => Promise<unknown>>)[name].bind(client);
    out[name] = numberOfKeys === 'any' ? (keys, args) => command(keys.length, ...keys, ...args) : (keys, args) => command(...keys, ...args);
  }
  const scripts = out as unknown as RedisScripts;
  defined.set(client, scripts);
  return scripts;
}
