// /metrics against reality: a stream broadcast to a real RTMP server shows up (on air, ~30 fps,
// frames, bytes, encode latencies), killing its FFmpeg counts a restart, SSE clients are
// counted, and promtool accepts the whole exposition.
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import request from 'supertest';
import { freePort } from '../src/embedded/redis.js';
import { redactKey } from '../src/logger.js';
import { startRtmpServer, type RtmpServerHandle } from '../src/render/rtmp-server.js';
import { createBroadcastFactory } from '../src/render/broadcast.js';
import { startMetricsServer } from '../src/metrics/index.js';
import { openSse, type SseClient } from '../scripts/lib/sse-client.js';
import { startStack, type Stack } from './helpers/stack.js';
import { testConfig, uniqueKey, waitFor } from './helpers/env.js';
import { promtool, sample, scrape, total } from './helpers/metrics.js';

function ffmpegChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'ffmpeg']).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('/metrics', function () {
  this.timeout(120_000);
  let rtmp: RtmpServerHandle;
  let s: Stack;
  const key = uniqueKey('metrics');
  const stream = redactKey(key);

  before(async () => {
    const rtmpPort = await freePort();
    rtmp = await startRtmpServer({ port: rtmpPort, host: '127.0.0.1' });
    const env = { RTMP_URL: `rtmp://127.0.0.1:${rtmpPort}/live`, WIDTH: '640', HEIGHT: '360', BROADCAST_FPS: '30', VIDEO_BITRATE: '600k', FFMPEG_MAX_FAILURES: '20' };
    s = await startStack({ env, workerOptions: { broadcast: await createBroadcastFactory(testConfig(env)) } });
    await request(s.url).post('/api/stream').send({ streamKey: key, screenId: 'testcard', fps: 10 }).expect(201);
  });
  after(async () => {
    await request(s.url).delete(`/api/stream?streamKey=${key}`);
    await s?.close();
    await rtmp?.close();
  });

  it('shows a live stream: up 1, fps near 30, frames, bytes out, encode latency, job pickup', async () => {
    const text = await waitFor(
      async () => {
        const t = await scrape(s.url);
        const fps = sample(t, 'sf_stream_fps', { stream }) ?? 0;
        return sample(t, 'sf_stream_up', { stream }) === 1 && fps >= 25 && fps <= 35 ? t : null;
      },
      40_000,
      500,
      'sf_stream_up 1 and sf_stream_fps near 30',
    );
    expect(sample(text, 'sf_stream_frames_total', { stream })).to.be.greaterThan(30);
    expect(sample(text, 'sf_stream_frames_dropped_total', { stream })).to.be.a('number');
    const bytes = sample(text, 'sf_stream_output_bytes_total', { stream });
    expect(bytes, 'bytes muxed to the RTMP server').to.be.greaterThan(10_000);
    expect(text).to.match(new RegExp(`sf_stream_output_bytes_total\\{stream="[^"]+",destination="127\\.0\\.0\\.1:\\d+"\\}`));
    expect(sample(text, 'sf_encode_latency_seconds_count')).to.be.greaterThan(10);
    expect(sample(text, 'sf_job_pickup_seconds_count', { queue: 'stream-start' })).to.be.at.least(1);
    expect(sample(text, 'sf_queue_jobs', { queue: 'stream-start', state: 'active' })).to.be.at.least(1);
    // A stream key is a credential: only its redacted form is a label.
    expect(text).to.not.include(key);
    expect(text).to.include('process_cpu_seconds_total');
  });

  it('counts an FFmpeg restart when FFmpeg is killed', async () => {
    const before = total(await scrape(s.url), 'sf_ffmpeg_restarts_total', { stream });
    const pids = ffmpegChildren();
    expect(pids).to.have.length(1);
    process.kill(pids[0], 'SIGKILL');
    const text = await waitFor(
      async () => {
        const t = await scrape(s.url);
        return total(t, 'sf_ffmpeg_restarts_total', { stream }) === before + 1 ? t : null;
      },
      30_000,
      200,
      'sf_ffmpeg_restarts_total +1',
    );
    expect(sample(text, 'sf_ffmpeg_restarts_total', { stream, reason: 'killed' })).to.equal(1);
    // Back on air after the restart.
    await waitFor(async () => sample(await scrape(s.url), 'sf_stream_up', { stream }) === 1, 30_000, 200, 'back on air');
  });

  it('counts SSE clients per stream', async () => {
    const clients: SseClient[] = [];
    try {
      for (let i = 0; i < 3; i++) clients.push(await openSse(`${s.url}/stream/feed?streamKey=${key}`));
      await Promise.all(clients.map((c) => c.next(1, 15_000)));
      await waitFor(async () => sample(await scrape(s.url), 'sf_sse_clients', { stream }) === 3, 10_000, 100, 'sf_sse_clients 3');
    } finally {
      clients.forEach((c) => c.close());
    }
    await waitFor(async () => (sample(await scrape(s.url), 'sf_sse_clients', { stream }) ?? 0) === 0, 10_000, 100, 'sf_sse_clients back to 0');
  });

  it('is accepted by promtool check metrics', async () => {
    const r = promtool(await scrape(s.url));
    expect(r.output).to.equal('');
    expect(r.status).to.equal(0);
  });

  it('serves a worker its own /metrics (METRICS_PORT), behind METRICS_TOKEN when set', async () => {
    const m = await startMetricsServer(0, '127.0.0.1', 'metrics-secret');
    try {
      const base = `http://127.0.0.1:${m.port}`;
      expect((await fetch(`${base}/metrics`)).status).to.equal(401);
      expect((await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer wrong-token' } })).status).to.equal(401);
      const text = await scrape(base, { Authorization: 'Bearer metrics-secret' });
      // One registry per process: the same stream as the web's /metrics.
      expect(sample(text, 'sf_stream_up', { stream })).to.be.a('number');
      expect((await fetch(`${base}/other`)).status).to.equal(404);
    } finally {
      await m.close();
    }
  });
});
