// Test configuration: real local services, and a queue prefix of its own per test run so
// parallel runs on one Redis never take each other's jobs.
import crypto from 'node:crypto';
import { parseConfig, type Config } from '../../src/config.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const RUN_ID = crypto.randomBytes(3).toString('hex');

/**
 * Budgets (issue 10) no functional test meets: every test client comes from 127.0.0.1.
 * test/security/ sets its own, small ones, and checks them.
 */
export const OPEN_LIMITS: Record<string, string> = {
  LIMIT_VOTES_PER_POLL: '1000000000',
  LIMIT_NEW_VOTERS_PER_HOUR: '1000000000',
  LIMIT_CONTROL_PER_MINUTE: '1000000000',
  LIMIT_SSE_PER_ADDRESS: '1000000',
  LIMIT_SSE_TOTAL: '1000000',
  LIMIT_SOCKETS_PER_MINUTE: '1000000000',
};

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL,
    DATABASE_URL,
    QUEUE_PREFIX: `bqt${RUN_ID}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    PREVIEW_WIDTH: '640',
    PREVIEW_HEIGHT: '360',
    HEARTBEAT_TTL_SECONDS: '6',
    // Issue 13: the test machine is shared (other runs take its CPU): functional tests start the
    // streams they ask for; test/admission.test.ts turns admission and shedding on itself.
    ADMISSION: 'off',
    SHED_LOAD: 'false',
    // YUV_CONVERT=off npx mocha …: the same tests on the path where FFmpeg converts RGBA (issue 14).
    ...(process.env.YUV_CONVERT ? { YUV_CONVERT: process.env.YUV_CONVERT } : {}),
    ...OPEN_LIMITS,
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig(testEnv(overrides));
}

export function uniqueKey(label: string): string {
  return `t-${label}-${RUN_ID}-${crypto.randomBytes(2).toString('hex')}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, stepMs = 50, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
}

/**
 * Forget this run's requested streams (issue 9): a test that failed half-way must not leave a
 * row that a later test's reconciler would bring back on air.
 */
export async function forgetRequestedStreams(): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: DATABASE_URL });
  try {
    await client.connect();
    // This run's rows, and test rows an interrupted run left behind (older than 10 minutes).
    await client.query(`DELETE FROM requested_streams WHERE stream_key LIKE $1 OR (stream_key LIKE 't-%' AND updated_at < now() - interval '10 minutes')`, [
      `t-%-${RUN_ID}-%`,
    ]);
  } catch {
    /* no table yet, or no database: nothing to forget */
  } finally {
    await client.end().catch(() => {});
  }
}
