// The broadcast through the whole service: /api/stream → worker → canvas → FFmpeg → a real
// RTMP server started here → ffprobe. Two streams at once, failures, and no FFmpeg left behind.
import { expect } from 'chai';
import request from 'supertest';
import { freePort } from '../src/embedded/redis.js';
import { keys } from '../src/keys.js';
import { startRtmpServer, type RtmpServerHandle } from '../src/render/rtmp-server.js';
import { createBroadcastFactory } from '../src/render/broadcast.js';
import { startStack, type Stack } from './helpers/stack.js';
import { spawnEntry } from './helpers/proc.js';
import { ffprobeRtmp, keyframeIntervals, videoKbps } from './helpers/media.js';
import { encoders, ffmpegProcs } from './helpers/ffmpeg-procs.js';
import { testConfig, testEnv, uniqueKey, waitFor } from './helpers/env.js';
import { yuvPath } from '../src/render/yuv.js';

/** The encoder's input: I420 from the render thread when native/yuv is built (issue 14), else RGBA. */
const INPUT = yuvPath(process.env.YUV_CONVERT === 'off' ? 'off' : 'auto').addon ? 'yuv420p' : 'rgba';

/** FFmpeg processes whose parent is this test process (in-process workers). */
function ffmpegChildren(): number[] {
  return ffmpegProcs().map((p) => p.pid);
}
/** The encoders: one per stream (each also has one `-c copy` output per destination). */
const encoderPids = () => encoders().map((p) => p.pid);

const state = (s: Stack, key: string) => s.redis.hgetall(keys.state(key));

describe('broadcast pipeline through the service', function () {
  this.timeout(90_000);
  let rtmpPort: number;
  let rtmp: RtmpServerHandle;
  let s: Stack;
  const a = uniqueKey('bc-a');
  const b = uniqueKey('bc-b');

  before(async () => {
    rtmpPort = await freePort();
    rtmp = await startRtmpServer({ port: rtmpPort, host: '127.0.0.1' });
    const env = {
      RTMP_URL: `rtmp://127.0.0.1:${rtmpPort}/live`,
      WIDTH: '640',
      HEIGHT: '360',
      BROADCAST_FPS: '30',
      VIDEO_BITRATE: '800k',
      FFMPEG_MAX_FAILURES: '20',
    };
    const config = testConfig(env);
    s = await startStack({ env, workerOptions: { broadcast: await createBroadcastFactory(config) } });
  });
  after(async () => {
    await s?.close();
    await rtmp?.close();
    expect(ffmpegChildren(), 'no FFmpeg outlives the worker').to.deep.equal([]);
  });

  it('runs two streams at once, each a platform-ready H.264 Main + AAC stream', async () => {
    await request(s.url).post('/api/stream').send({ streamKey: a, screenId: 'testcard' }).expect(201);
    await request(s.url).post('/api/stream').send({ streamKey: b, screenId: 'testcard', broadcastFps: 25 }).expect(201);
    await waitFor(async () => (await state(s, a)).health === 'live' && (await state(s, b)).health === 'live', 15_000, 100, 'both live');
    expect(encoderPids()).to.have.length(2);
    expect(ffmpegChildren()).to.have.length(4); // each: its encoder + one output (RTMP_URL)
    for (const e of encoders()) expect(e.args.slice(e.args.indexOf('rawvideo') + 1, e.args.indexOf('rawvideo') + 3)).to.deep.equal(['-pix_fmt', INPUT]);

    const [pa, pb] = await Promise.all([ffprobeRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${a}`, 6), ffprobeRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${b}`, 4)]);
    const va = pa.streams.find((x) => x.codec_type === 'video')!;
    expect(va).to.include({ codec_name: 'h264', profile: 'Main', pix_fmt: 'yuv420p', width: 640, height: 360, avg_frame_rate: '30/1' });
    expect(pa.streams.find((x) => x.codec_type === 'audio')).to.include({ codec_name: 'aac', sample_rate: '44100', channels: 2 });
    expect(pb.streams.find((x) => x.codec_type === 'video')).to.include({ avg_frame_rate: '25/1' });
    const gaps = keyframeIntervals(pa);
    expect(gaps.length).to.be.at.least(1);
    for (const g of gaps) expect(g).to.be.at.most(2.05);

    const list = (await request(s.url).get('/api/stream').expect(200)).body.streams;
    const mine = list.filter((x: { streamKey: string }) => [a, b].includes(x.streamKey));
    expect(mine).to.have.length(2);
    for (const x of mine) {
      expect(x).to.include.keys('streamKey', 'screenId', 'fps', 'health', 'startedAt', 'frames', 'dropped', 'restarts');
      expect(x.frames).to.be.greaterThan(0);
    }
  });

  it('stops one stream and leaves the other live', async () => {
    await request(s.url).delete(`/api/stream?streamKey=${b}`).expect(200);
    await waitFor(async () => !(await s.redis.exists(keys.state(b))), 30_000, 50, 'b stopped');
    await waitFor(() => ffmpegChildren().length === 2, 30_000, 50, 'one stream\'s FFmpeg left');
    const f0 = Number((await state(s, a)).frames);
    await new Promise((r) => setTimeout(r, 1500));
    const sa = await state(s, a);
    expect(sa.health).to.equal('live');
    expect(Number(sa.frames)).to.be.greaterThan(f0 + 20);
  });

  it('restarts a killed encoder and counts it', async () => {
    const [pid] = encoderPids();
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => Number((await state(s, a)).restarts) >= 1, 30_000, 100, 'restart counted');
    await waitFor(async () => (await state(s, a)).health === 'live' && encoderPids().length === 1 && encoderPids()[0] !== pid, 30_000, 100, 'live again');
    expect((await state(s, a)).last_error ?? '').not.to.include(a);
  });

  it('goes reconnecting when the RTMP server goes away and live again when it is back', async () => {
    await rtmp.close();
    await waitFor(async () => (await state(s, a)).health === 'reconnecting', 20_000, 100, 'reconnecting');
    rtmp = await startRtmpServer({ port: rtmpPort, host: '127.0.0.1' });
    await waitFor(async () => (await state(s, a)).health === 'live', 40_000, 200, 'live again');
    const probe = await ffprobeRtmp(`rtmp://127.0.0.1:${rtmpPort}/live/${a}`, 2);
    expect(probe.streams.some((x) => x.codec_type === 'video')).to.equal(true);
    await request(s.url).delete(`/api/stream?streamKey=${a}`).expect(200);
    await waitFor(() => ffmpegChildren().length === 0, 30_000, 50, 'no FFmpeg left');
  });

  it('refuses an invalid stream key or an unknown screen with a 400 and starts nothing', async () => {
    for (const body of [
      { streamKey: 'bad key!', screenId: 'testcard' },
      { streamKey: '', screenId: 'testcard' },
      { streamKey: 'x'.repeat(65), screenId: 'testcard' },
      { streamKey: uniqueKey('ok'), screenId: 'no-such-screen' },
      { screenId: 'testcard' },
    ]) {
      const res = await request(s.url).post('/api/stream').send(body).expect(400);
      expect(res.body.message).to.match(/streamKey|screenId/);
    }
    await request(s.url).delete('/api/stream').expect(400);
    await request(s.url).delete(`/api/stream?streamKey=${uniqueKey('none')}`).expect(409);
    expect(ffmpegChildren()).to.deep.equal([]);
  });
});

describe('broadcast failures', function () {
  this.timeout(60_000);

  it('never fails a stream for its RTMP host: reconnecting, with a redacted error, until stopped', async () => {
    const closed = await freePort();
    const env = { RTMP_URL: `rtmp://127.0.0.1:${closed}/live`, WIDTH: '320', HEIGHT: '180', FFMPEG_MAX_FAILURES: '2' };
    const s = await startStack({ env, workerOptions: { broadcast: await createBroadcastFactory(testConfig(env)) } });
    try {
      const key = uniqueKey('unreachable-secret');
      await request(s.url).post('/api/stream').send({ streamKey: key, screenId: 'testcard' }).expect(201);
      // More failed attempts than FFMPEG_MAX_FAILURES: a destination is retried for as long as the stream is requested.
      const st = await waitFor(async () => {
        const h = await s.redis.hgetall(keys.state(key));
        const d = JSON.parse(h.dest_status ?? '[]')[0];
        return d && d.restarts >= 3 ? h : null;
      }, 30_000, 200, 'three failed attempts');
      expect(st).to.include({ active: 'true', health: 'reconnecting' });
      expect(st.last_error).to.match(/Connection refused/);
      expect(st.last_error).not.to.include(key);
      await request(s.url).delete(`/api/stream?streamKey=${key}`).expect(200);
      await waitFor(async () => !(await s.redis.exists(keys.state(key))), 30_000, 100, 'stopped');
      expect(ffmpegChildren()).to.deep.equal([]);
    } finally {
      await s.close();
    }
  });

  it('stops the worker at start-up with a clear error when FFMPEG_PATH is wrong', async () => {
    const p = spawnEntry('src/worker.ts', testEnv({ RTMP_URL: 'rtmp://127.0.0.1:1/live', FFMPEG_PATH: '/nonexistent/ffmpeg' }));
    const code = await new Promise((r) => p.child.on('exit', r));
    expect(code).to.equal(1);
    expect(p.output()).to.match(/FFMPEG_PATH/);
    expect(p.output()).to.match(/\/nonexistent\/ffmpeg/);
  });
});
