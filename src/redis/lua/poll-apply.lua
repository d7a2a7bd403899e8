-- Count each new voter once (polls/store.ts apply); replaying a vote is harmless.
-- KEYS[1] tally hash, KEYS[2] voters set. ARGV: voter1, option1, voter2, option2, ...
-- Returns -1 when the keys are missing (Redis lost them: rebuild), else the whole tally (flat).
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
for i = 1, #ARGV, 2 do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then redis.call('HINCRBY', KEYS[1], ARGV[i + 1], 1) end
end
return redis.call('HGETALL', KEYS[1])
