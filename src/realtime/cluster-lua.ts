// The Lua scripts of ClusterState (cluster.ts): each change of the registry or of the viewer
// counts is one atomic step that also publishes the result on the events channel.
import { lua } from './lua.js';

// Shared Lua: end one socket stream (registry, counts on every node, catch-up list) and say so.
// Key names are built in Lua from prefixes: fine on a single Redis, not on Redis Cluster.
const END_FN = `
local function publishViewers(channel, key, total)
  redis.call('PUBLISH', channel, cjson.encode({type='viewers', streamKey=key, count=total}))
end
local function endStream(streams, viewers, nodes, nvPrefix, catchupPrefix, channel, key, reason)
  local raw = redis.call('HGET', streams, key)
  if not raw then return 0 end
  local sid = cjson.decode(raw).sid
  redis.call('HDEL', streams, key)
  redis.call('HDEL', viewers, key)
  redis.call('DEL', catchupPrefix .. key)
  for _, n in ipairs(redis.call('HKEYS', nodes)) do redis.call('HDEL', nvPrefix .. n, key) end
  redis.call('PUBLISH', channel, cjson.encode({type='ended', streamKey=key, sid=sid, reason=reason}))
  return 1
end
`;

// KEYS: streams, viewers, nodes. ARGV: nvPrefix, catchupPrefix, channel, key, sid ('' = any), reason
export const END = lua(`${END_FN}
local raw = redis.call('HGET', KEYS[1], ARGV[4])
if not raw then return 0 end
if ARGV[5] ~= '' and cjson.decode(raw).sid ~= ARGV[5] then return 0 end
return endStream(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[6])`);

// KEYS: streams, state hash of the key, viewers, this node's viewers. ARGV: key, delta, channel.
// A join (+1) only counts for a stream that exists; a leave only undoes what this node counted.
export const DELTA = lua(`${END_FN}
local d = tonumber(ARGV[2])
if d > 0 then
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HGET', KEYS[2], 'active') ~= 'true' then return -1 end
else
  local mine = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
  if mine <= 0 then return tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') end
  if -d > mine then d = -mine end
end
if redis.call('HINCRBY', KEYS[4], ARGV[1], d) <= 0 then redis.call('HDEL', KEYS[4], ARGV[1]) end
local total = redis.call('HINCRBY', KEYS[3], ARGV[1], d)
if total <= 0 then redis.call('HDEL', KEYS[3], ARGV[1]); total = 0 end
publishViewers(ARGV[3], ARGV[1], total)
return total`);

// KEYS: streams, viewers, this node's viewers. ARGV: channel, then key/count pairs: this node's
// truth. Corrects drift (a lost reply, a Redis restart); re-adds only registered socket streams.
export const RESYNC = lua(`${END_FN}
local want = {}
for i = 2, #ARGV, 2 do want[ARGV[i]] = tonumber(ARGV[i + 1]) end
local function apply(k, d)
  local total = redis.call('HINCRBY', KEYS[2], k, d)
  if total <= 0 then redis.call('HDEL', KEYS[2], k); total = 0 end
  publishViewers(ARGV[1], k, total)
end
local have = redis.call('HGETALL', KEYS[3])
local seen = {}
for i = 1, #have, 2 do
  local k, old = have[i], tonumber(have[i + 1])
  local new = want[k] or 0
  seen[k] = true
  if new ~= old then
    if new <= 0 then redis.call('HDEL', KEYS[3], k) else redis.call('HSET', KEYS[3], k, new) end
    apply(k, new - old)
  end
end
for k, n in pairs(want) do
  if not seen[k] and n > 0 and redis.call('HEXISTS', KEYS[1], k) == 1 then
    redis.call('HSET', KEYS[3], k, n)
    apply(k, n)
  end
end
return 1`);

// KEYS: streams, viewers, nodes. ARGV: nvPrefix, catchupPrefix, channel, node, aliveKey.
// Take back a dead node's viewers and end the streams whose streamer was on it.
export const REAP = lua(`${END_FN}
if redis.call('EXISTS', ARGV[5]) == 1 then return 0 end
local nv = ARGV[1] .. ARGV[4]
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 0 and redis.call('EXISTS', nv) == 0 then return 0 end
local h = redis.call('HGETALL', nv)
for i = 1, #h, 2 do
  local total = redis.call('HINCRBY', KEYS[2], h[i], -tonumber(h[i + 1]))
  if total <= 0 then redis.call('HDEL', KEYS[2], h[i]); total = 0 end
  publishViewers(ARGV[3], h[i], total)
end
redis.call('DEL', nv)
local s = redis.call('HGETALL', KEYS[1])
for i = 1, #s, 2 do
  if cjson.decode(s[i + 1]).node == ARGV[4] then
    endStream(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], s[i], 'streamer_node_lost')
  end
end
redis.call('HDEL', KEYS[3], ARGV[4])
return 1`);
