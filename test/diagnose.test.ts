// The diagnostic runner as a user runs it: a child process, its lines and exit code.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { deleteKeys, startStack, type Stack } from './helpers/stack.js';
import { ROOT } from './helpers/proc.js';
import { testEnv } from './helpers/env.js';

function diagnose(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(path.join(ROOT, 'scripts', 'test-streaming'), args, { env: { ...process.env, ...env }, timeout: 40_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

describe('diagnostic runner scripts/test-streaming', function () {
  this.timeout(60_000);
  let s: Stack;
  before(async () => {
    s = await startStack();
  });
  after(async () => s?.close());

  it('passes every check, with --full round trip, against a live service', async () => {
    const { code, out } = await diagnose(['--full', '--url', s.url], testEnv());
    expect(out).to.match(/✅ Redis reachable at redis:\/\//);
    expect(out).to.match(/✅ queue .*stream-start/);
    expect(out).to.match(/✅ \d+ worker\(s\) alive/);
    expect(out).to.match(/✅ a worker .* answered a status job/);
    expect(out).to.match(/✅ first preview frame after \d+ ms/);
    expect(out).to.match(/✅ feed closed with stream_stopped/);
    expect(out).to.match(/✅ stream state cleaned from Redis/);
    expect(out).not.to.match(/❌/);
    expect(code).to.equal(0);
  });

  it('fails with one clear line when Redis is down', async () => {
    const { code, out } = await diagnose([], testEnv({ REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(code).to.equal(1);
    expect(out).to.match(/❌ cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED/);
    expect(out).not.to.match(/\n\s+at /); // no stack trace
  });

  it('fails when no worker consumes the queues', async () => {
    const { code, out } = await diagnose(['--timeout', '1500'], testEnv({ QUEUE_PREFIX: 'bq-nobody-home' }));
    expect(code).to.equal(1);
    expect(out).to.match(/❌ no worker answered a status job/);
    await deleteKeys(s.redis, 'bq-nobody-home:*');
  });

  it('fails the round trip clearly when the web process is not there', async () => {
    const { code, out } = await diagnose(['--full', '--url', 'http://127.0.0.1:1'], testEnv());
    expect(code).to.equal(1);
    expect(out).to.match(/❌ cannot reach the web process at http:\/\/127\.0\.0\.1:1/);
  });
});
