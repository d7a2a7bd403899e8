// Lua scripts sent by SHA (EVALSHA), loaded again when Redis answers NOSCRIPT (restart, flush).
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';

type Arg = string | number | Buffer;

export interface LuaScript {
  run(redis: Redis, keys: string[], args: Arg[]): Promise<unknown>;
}

export function lua(source: string): LuaScript {
  const sha = crypto.createHash('sha1').update(source).digest('hex');
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}
