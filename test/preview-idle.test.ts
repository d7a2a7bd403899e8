// Issue 14, previews nobody watches, across real processes: a web and a worker from the
// production build, real Redis, a real SSE client. Conditions with generous deadlines, never
// a frame count in a fixed window as a speed figure: the state hash says the rate the worker
// set (`preview_fps`), and the preview counter shows it is far below the configured rate.
import { expect } from 'chai';
import request from 'supertest';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { spawnWeb, spawnWorker, type Proc } from './helpers/proc.js';
import { openSse, isCompleteJpeg } from '../scripts/lib/sse-client.js';
import { REDIS_URL, forgetRequestedStreams, testEnv, uniqueKey, waitFor } from './helpers/env.js';

describe('previews nobody watches (issue 14)', function () {
  this.timeout(120_000);
  // Previews only (no FFmpeg): the rate logic is the same, and the shared machine is spared.
  const env = testEnv({ RTMP_URL: 'off', PREVIEW_IDLE_FPS: '1' });
  const redis = new Redis(REDIS_URL);
  const procs: Proc[] = [];
  let url = '';
  const key = uniqueKey('idle');
  const state = () => redis.hgetall(keys.state(key));

  before(async () => {
    const web = await spawnWeb(env, { built: true });
    procs.push(web, await spawnWorker(env, { built: true }));
    url = web.url;
    await request(url).post('/api/stream').send({ streamKey: key, screenId: 'testcard', fps: 15 }).expect(201);
    await waitFor(async () => (await state()).health === 'live', 30_000, 100, 'the stream live');
  });
  after(async () => {
    await request(url).delete(`/api/stream?streamKey=${key}`).catch(() => {});
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await forgetRequestedStreams();
    redis.disconnect();
  });

  it('previews an unwatched stream at the idle rate', async () => {
    await waitFor(async () => (await state()).preview_fps === '1', 15_000, 100, 'preview_fps 1');
    expect(await redis.exists(keys.previewWatched(key))).to.equal(0);
    // Two observations at least 3 s apart: far fewer previews than 15 fps would make.
    const a = { n: Number((await state()).preview_frames), t: Date.now() };
    await new Promise((r) => setTimeout(r, 3500));
    const b = { n: Number((await state()).preview_frames), t: Date.now() };
    const perSecond = (b.n - a.n) / ((b.t - a.t) / 1000);
    expect(perSecond, `${b.n - a.n} previews in ${b.t - a.t} ms`).to.be.lessThan(5);
    expect(b.n, 'the idle previews go on (the diagnostics read them)').to.be.greaterThan(0);
  });

  it('goes back to the configured rate when a viewer connects, and to idle after it left', async () => {
    const feed = await openSse(`${url}/stream/feed?streamKey=${key}`);
    // The web marks the stream as the client joins the fan-out; the worker reads it within a second.
    await waitFor(async () => (await redis.exists(keys.previewWatched(key))) === 1, 5000, 20, 'the watched mark');
    await waitFor(async () => (await state()).preview_fps === '15', 10_000, 50, 'preview_fps 15 with a viewer');
    const got = await feed.next(10, 20_000);
    expect(isCompleteJpeg(Buffer.from(got[9], 'base64'))).to.equal(true);
    // The counter grows at more than the idle rate now (a condition, not a speed figure).
    const a = Number((await state()).preview_frames);
    await waitFor(async () => Number((await state()).preview_frames) >= a + 10, 20_000, 100, '10 more previews');

    feed.close();
    // Back to idle once the mark's TTL (6 s) lapses and the worker's next check sees it.
    await waitFor(async () => (await redis.exists(keys.previewWatched(key))) === 0, 15_000, 100, 'the mark to lapse');
    await waitFor(async () => (await state()).preview_fps === '1', 10_000, 100, 'preview_fps 1 again');
  });
});
