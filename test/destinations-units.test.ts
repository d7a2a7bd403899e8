// Unit tests of the fan-out's pure parts: the MPEG-TS GOP cache (on real FFmpeg output), the
// shared backoff, destination schemas, the stream health from its destinations, and the
// destination list operations on the real Redis.
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { TsGopCache, TS_PACKET } from '../src/render/ffmpeg/ts-gop.js';
import { backoffMs, FailureCount } from '../src/render/ffmpeg/retry.js';
import { endKind, Refusals } from '../src/render/ffmpeg/refusal.js';
import { defaultDestinations } from '../src/render/broadcast.js';
import { hostPort } from '../src/render/ffmpeg/reachability.js';
import { destinationInput, startParams } from '../src/streams/schema.js';
import { addDestination, destinationViews, removeDestination } from '../src/streams/destinations.js';
import { broadcastError, broadcastHealth } from '../src/jobs/job-destinations.js';
import { keys } from '../src/keys.js';
import type { BroadcastStatus } from '../src/render/thread-protocol.js';
import { REDIS_URL, uniqueKey } from './helpers/env.js';
import { z } from 'zod';

function encodeTs(seconds: number): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=30', '-f', 'lavfi', '-i', 'anullsrc', '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-c:a', 'aac', '-f', 'mpegts', 'pipe:1'], { maxBuffer: 1 << 28 });
}

function probePackets(ts: Buffer): string[] {
  return execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=codec_type,flags', '-of', 'csv=p=0', '-'], { input: ts }).toString().trim().split('\n');
}

describe('TsGopCache', function () {
  this.timeout(20_000);
  const ts = encodeTs(5);

  it('passes whole packets on, whatever the chunking, and starts its snapshot at a video keyframe', () => {
    const c = new TsGopCache();
    let out = 0;
    for (let i = 0; i < ts.length; i += 1001) out += c.push(ts.subarray(i, i + 1001)).length;
    expect(out).to.equal(ts.length);
    expect(out % TS_PACKET).to.equal(0);
    expect(c.keyframeCount).to.equal(3); // 0, 2, 4 s: audio packets (random access too) do not count
    const snap = c.snapshot();
    expect(snap.length).to.be.greaterThan(0).and.below(ts.length / 2);
    const first = probePackets(snap).find((l) => l.startsWith('video'));
    expect(first).to.match(/^video,K/);
  });

  it('has nothing to offer before the first keyframe, or after a reset', () => {
    const c = new TsGopCache();
    c.push(ts.subarray(0, 188 * 3));
    expect(c.snapshot().length).to.equal(0);
    c.push(ts.subarray(188 * 3));
    expect(c.snapshot().length).to.be.greaterThan(0);
    c.reset();
    expect(c.snapshot().length).to.equal(0);
  });
});

describe('retry policy', () => {
  it('retries at once after the first failure, then doubles from 1 s to a 30 s ceiling, with ±10 % jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, {}, mid))).to.deep.equal([0, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffMs(1, {}, () => 1)).to.equal(0);
    expect(backoffMs(2, {}, () => 0)).to.equal(900);
    expect(backoffMs(2, {}, () => 1)).to.equal(1100);
  });

  it('a run that stayed live long enough starts the count afresh', () => {
    const f = new FailureCount({ healthyRunMs: 1000 });
    expect([f.failed(null), f.failed(10), f.failed(null)]).to.deep.equal([1, 2, 3]);
    expect(f.failed(5000)).to.equal(1);
  });
});

describe('destination ends no retry can fix (refusal.ts)', () => {
  // FFmpeg 6's own lines for each case.
  const badPort = ['[tcp @ 0x1] Port missing in uri', '[rtmp @ 0x2] Cannot open connection tcp://127.0.0.1:99999?tcp_nodelay=0', 'rtmp://127.0.0.1:99999/live/ke…ey: Invalid argument'];
  const noHost = ['[tcp @ 0x1] Failed to resolve hostname nonexistent.invalid: Name or service not known', 'rtmp://nonexistent.invalid/live/k…y: Input/output error'];
  const down = ['[tcp @ 0x1] Connection to tcp://127.0.0.1:1?tcp_nodelay=0 failed: Connection refused', 'rtmp://127.0.0.1:1/live/k…y: Connection refused'];
  const dropped = ['av_interleaved_write_frame(): End of file', 'Error writing trailer of rtmp://127.0.0.1:1935/live/k…y: End of file'];

  it('tells an invalid URL, a refusal and an outage apart', () => {
    expect(endKind(badPort, 100)).to.equal('invalid');
    expect(endKind(noHost, 100_000)).to.equal('refused');
    expect(endKind(down, 100)).to.equal('outage');
    expect(endKind(['Temporary failure in name resolution'], 100)).to.equal('outage');
    // Dropped right after connecting: the server refused the publish; after a real run: an outage.
    expect(endKind(dropped, 1500)).to.equal('refused');
    expect(endKind(dropped, 60_000)).to.equal('outage');
  });

  it('an invalid URL fails at once; refusals fail only when they go on, an outage resets them', () => {
    expect(new Refusals().record('invalid')).to.match(/invalid destination URL/);
    const r = new Refusals({ limit: 3, forMs: 10_000 });
    expect([r.record('refused', 0), r.record('refused', 1000), r.record('refused', 2000)]).to.deep.equal([null, null, null]);
    expect(r.record('outage', 3000)).to.equal(null);
    expect([r.record('refused', 4000), r.record('refused', 5000), r.record('refused', 6000)]).to.deep.equal([null, null, null]);
    expect(r.record('refused', 14_000)).to.match(/refused every attempt \(4 in a row over 10 s/);
    for (let i = 0; i < 1000; i++) expect(new Refusals().record('outage', i * 60_000)).to.equal(null);
  });
});

describe('destination schemas and defaults', () => {
  const body = z.strictObject(startParams);
  it('accepts full rtmp/rtmps URLs with application and key, 1 to 8 of them', () => {
    for (const url of ['rtmp://a.rtmp.youtube.com/live2/abcd-1234', 'rtmps://live-api-s.facebook.com:443/rtmp/FB-1?s_bl=1', 'rtmp://127.0.0.1:1935/live/k', 'rtmp://[::1]:1935/app/k']) {
      expect(destinationInput.safeParse({ url }).success, url).to.equal(true);
    }
    for (const url of ['http://h/live/k', 'rtmp://h/k', 'rtmp://h/live/', 'rtmp:///live/k', 'rtmp://h/live/k k', 'rtmp://h']) {
      expect(destinationInput.safeParse({ url }).success, url).to.equal(false);
    }
    expect(body.safeParse({ destinations: [] }).success).to.equal(false);
    expect(body.safeParse({ destinations: Array(9).fill({ url: 'rtmp://h/live/k' }) }).success).to.equal(false);
    expect(body.safeParse({ destinations: Array(8).fill({ url: 'rtmp://h/live/k' }) }).success).to.equal(true);
  });

  it('RTMP_URL gives one destination per base, ids stable across workers', () => {
    expect(defaultDestinations('rtmp://a/live, rtmp://b:1936/app', 'k1')).to.deep.equal([
      { id: 'rtmp-1', url: 'rtmp://a/live/k1', name: 'RTMP_URL #1' },
      { id: 'rtmp-2', url: 'rtmp://b:1936/app/k1', name: 'RTMP_URL #2' },
    ]);
    expect(hostPort('rtmps://x.example/app/k')).to.deep.equal({ host: 'x.example', port: 443 });
    expect(hostPort('rtmp://u:p@10.0.0.1:1940/app/k')).to.deep.equal({ host: '10.0.0.1', port: 1940 });
  });
});

describe('stream health from its destinations', () => {
  const d = (health: string, lastError: string | null = null) => ({ id: 'x', name: 'n', url: 'u', health, since: 0, bytes: 0, restarts: 0, lastError }) as BroadcastStatus['destinations'][0];
  const bs = (health: BroadcastStatus['health'], dests: BroadcastStatus['destinations']): BroadcastStatus => ({ health, restarts: 0, lastError: 'enc', fps: 30, destinations: dests, hls: null });
  it('is live while one destination is, reconnecting when all are down, the encoder\'s otherwise', () => {
    expect(broadcastHealth(bs('live', [d('live'), d('reconnecting')]))).to.equal('live');
    expect(broadcastHealth(bs('live', [d('reconnecting'), d('starting')]))).to.equal('reconnecting');
    expect(broadcastHealth(bs('live', [d('starting')]))).to.equal('starting');
    expect(broadcastHealth(bs('live', []))).to.equal('live');
    expect(broadcastHealth(bs('reconnecting', [d('live')]))).to.equal('reconnecting');
    expect(broadcastError(bs('live', [d('live'), d('reconnecting', 'refused')]))).to.equal('destination n: refused');
  });
});

describe('destination list in the state hash (real Redis)', () => {
  let redis: Redis;
  before(() => (redis = new Redis(REDIS_URL)));
  after(() => redis.quit());

  it('adds up to 8 on an active stream, removes by id, 404/409 otherwise; views never show the key', async () => {
    const key = uniqueKey('dl');
    const sub = new Redis(REDIS_URL);
    const told: string[] = [];
    await sub.subscribe(keys.destControl());
    sub.on('message', (_c, m) => told.push(m));
    try {
      const err = await addDestination(redis, key, { url: 'rtmp://h/live/k' }).catch((e) => e);
      expect(err.status).to.equal(404);
      await redis.hset(keys.state(key), { active: 'true' });
      expect((await addDestination(redis, key, { url: 'rtmp://h/live/k' }).catch((e) => e)).status).to.equal(409); // list not known yet
      await redis.hset(keys.state(key), { destinations: '[]' });
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push((await addDestination(redis, key, { url: `rtmp://h/live/secret${i}`, name: `n${i}` })).id);
      expect((await addDestination(redis, key, { url: 'rtmp://h/live/k9' }).catch((e) => e)).status).to.equal(409);
      await removeDestination(redis, key, ids[0]);
      expect((await removeDestination(redis, key, ids[0]).catch((e) => e)).status).to.equal(404);
      const views = destinationViews(await redis.hgetall(keys.state(key)));
      expect(views.map((v) => v.id)).to.deep.equal(ids.slice(1));
      expect(views[0]).to.deep.equal({ id: ids[1], name: 'n1', url: 'rtmp://h/live/secr…(7)', health: 'starting', since: null, bytes: 0, restarts: 0, lastError: null });
      for (const id of ids.slice(1)) await removeDestination(redis, key, id);
      expect(await redis.hget(keys.state(key), 'destinations')).to.equal('[]');
      await new Promise((r) => setTimeout(r, 100));
      expect(told.filter((m) => m === key)).to.have.length(16);
    } finally {
      sub.disconnect();
      await redis.del(keys.state(key));
    }
  });
});
