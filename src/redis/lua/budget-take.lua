-- Spend budgets (security/budgets.ts) in one round trip: the budget checks of every request
-- a web node has waiting (a vote from a new browser: its new-voter and vote budgets).
-- KEYS: budget counters (sf:budget:<budget>:<key>), a request's counters together, requests
-- in order. ARGV: four per key: request number (1, 2, ... as KEYS go), points (1 to take, -1
-- to give back), limit, window in seconds.
-- Each counter is a fixed window: INCRBY, and the window as its TTL when that call created it
-- (the counters and semantics of rate-limiter-flexible's RateLimiterRedis, which kept them
-- before, in two commands instead of its four: a refused take counts too, and a counter found
-- without a TTL when it refuses gets one). A request's counters are spent in order; the first
-- past its limit refuses the request, and its counters after that one are left untouched (as
-- separate calls in a row would).
-- Returns two numbers per request: {0, 0} when every take fits; else {i, ms}: its counter i
-- (1-based within the request) is past its limit with ms left in its window.
-- (The counters of one call may live in different hash slots: no Redis Cluster, like cluster-*.lua.)
local out, refused, nth = {}, {}, {}
for i, key in ipairs(KEYS) do
  local at = (i - 1) * 4
  local r = tonumber(ARGV[at + 1])
  nth[r] = (nth[r] or 0) + 1
  if nth[r] == 1 then
    out[2 * r - 1] = 0
    out[2 * r] = 0
  end
  if not refused[r] then
    local points, limit, window = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), ARGV[at + 4]
    local n = redis.call('INCRBY', key, points)
    if n == points then redis.call('EXPIRE', key, window) end
    if points > 0 and n > limit then
      local ttl = redis.call('PTTL', key)
      if ttl < 0 then
        redis.call('EXPIRE', key, window)
        ttl = 1000 * tonumber(window)
      end
      refused[r] = true
      out[2 * r - 1] = nth[r]
      out[2 * r] = ttl
    end
  end
end
return out
