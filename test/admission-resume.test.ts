// Issues 9 and 13 together: measured capacity keeps new streams out, never a live one off air.
// Each worker is full with one stream (a fixed cost per stream of 60 % of the machine's cores);
// when one worker dies, its stream was on air, so the other worker takes it over anyway (and
// sheds load if it must) instead of leaving it waiting for "capacity" for ever. Real processes,
// Redis, PostgreSQL, FFmpeg and RTMP; conditions with generous deadlines.
import os from 'node:os';
import { expect } from 'chai';
import request from 'supertest';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { startRtmpServer, type RtmpServerHandle } from '../src/render/rtmp-server.js';
import { spawnWeb, spawnWorker, type Proc } from './helpers/proc.js';
import { watchRtmp, type RtmpWatch } from './helpers/rtmp-watch.js';
import { REDIS_URL, forgetRequestedStreams, testEnv, uniqueKey, waitFor } from './helpers/env.js';

describe('admission and take-over (issues 9, 13)', function () {
  this.timeout(180_000);
  let rtmp: RtmpServerHandle;
  let env: Record<string, string>;
  let redis: Redis;
  const procs: Proc[] = [];
  const watches: RtmpWatch[] = [];
  const track = <P extends Proc>(p: P): P => {
    procs.push(p);
    return p;
  };
  const state = (key: string) => redis.hgetall(keys.state(key));

  before(async () => {
    rtmp = await startRtmpServer({ port: 0, host: '127.0.0.1' });
    env = testEnv({
      RTMP_URL: `rtmp://127.0.0.1:${rtmp.port}/live`,
      WIDTH: '640',
      HEIGHT: '360',
      RECONCILE_SECONDS: '2',
      WORKER_CONCURRENCY: '4',
      ADMISSION: 'measured',
      ADMISSION_STREAM_CPU: String(Math.round(os.availableParallelism() * 0.6 * 100) / 100),
    });
    env.QUEUE_PREFIX = `${env.QUEUE_PREFIX}admr`;
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    watches.splice(0).forEach((w) => w.close());
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await forgetRequestedStreams();
    redis.disconnect();
    await rtmp.close();
  });

  it('a full worker takes over the stream of a worker that died: it was on air, so it is not "new"', async () => {
    const web = track(await spawnWeb(env));
    const w1 = track(await spawnWorker(env));
    const [a, b] = [uniqueKey('admr-a'), uniqueKey('admr-b')];
    await request(web.url).post('/api/stream').send({ streamKey: a, screenId: 'testcard', fps: 5 }).expect(201);
    await waitFor(async () => (await state(a)).worker_id === w1.workerId && (await state(a)).health === 'live', 30_000, 100, 'A live on worker 1');

    // Worker 2 joins; B goes to it (worker 1 is full), and then worker 2 is full too.
    const w2 = track(await spawnWorker(env));
    await request(web.url).post('/api/stream').send({ streamKey: b, screenId: 'testcard', fps: 5 }).expect(201);
    await waitFor(async () => (await state(b)).worker_id === w2.workerId && (await state(b)).health === 'live', 60_000, 100, 'B live on worker 2');
    await waitFor(async () => {
      const h = (await request(web.url).get('/api/health').expect(200)).body;
      return h.workers.capacity.find((c: { id: string }) => c.id === w2.workerId)?.headroom === 0;
    }, 15_000, 200, 'worker 2 advertising no headroom');

    const outA = watchRtmp(`rtmp://127.0.0.1:${rtmp.port}/live/${a}`);
    watches.push(outA);
    await waitFor(() => outA.onAir(), 20_000, 100, 'A on air at the RTMP server');
    await w1.kill('SIGKILL');
    const diedAt = Date.now();
    // Same task, now on worker 2, and on air again.
    const taskId = (await state(a)).task_id;
    await waitFor(async () => {
      const s = await state(a);
      return s.worker_id === w2.workerId && s.health === 'live' && s.task_id === taskId;
    }, 60_000, 100, 'A taken over by the full worker 2');
    await waitFor(() => outA.onAir(1000) && outA.arrivals.some((t) => t > diedAt + 500), 30_000, 100, 'A on air again');
    expect((await state(a)).last_error).to.not.equal('no capacity');
  });
});
