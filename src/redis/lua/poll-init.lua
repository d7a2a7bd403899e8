-- Write a poll's definition and make sure its counters exist (polls/store.ts init).
-- Keeps existing counts when both keys are there; otherwise starts them over (the caller then
-- replays the votes from Postgres).
-- KEYS[1] tally hash, KEYS[2] voters set, KEYS[3] poll definition. ARGV[1] definition JSON,
-- then the option keys. Returns 1 when the counters were (re)created empty, else 0.
redis.call('SET', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('EXISTS', KEYS[2]) == 1 then
  for i = 2, #ARGV do redis.call('HSETNX', KEYS[1], ARGV[i], 0) end
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
for i = 2, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], 0) end
redis.call('SADD', KEYS[2], '')
return 1
