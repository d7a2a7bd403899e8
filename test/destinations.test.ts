// Destinations through the whole service, on real nginx-rtmp servers: one encode fanned out to
// three destinations on two servers; one server down for 30 s while the others receive every
// frame; add and remove on a live stream; the API's refusals; HLS served and playable.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { createBroadcastFactory } from '../src/render/broadcast.js';
import { startBenchRtmp } from '../bench/lib/rtmp-server.js';
import { startStack, type Stack } from './helpers/stack.js';
import { ffprobeRtmp, keyframeIntervals } from './helpers/media.js';
import { encoders, ffmpegProcs, outputsFor } from './helpers/ffmpeg-procs.js';
import { sleep, testConfig, uniqueKey, waitFor } from './helpers/env.js';

type Rtmp = Awaited<ReturnType<typeof startBenchRtmp>>;
interface Dest { id: string; name: string; url: string; health: string; since: number | null; bytes: number; restarts: number; lastError: string | null }

/** Reads a stream's video packet timestamps as a player would, for as long as it runs. */
function readTimestamps(url: string) {
  const child = spawn('ffprobe', ['-v', 'error', '-rw_timeout', '20000000', '-select_streams', 'v', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', url], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return {
    times: () => out.split('\n').map(Number).filter((n) => Number.isFinite(n) && n > 0),
    close: () => child.kill('SIGKILL'),
  };
}

const maxGap = (t: number[]) => t.slice(1).reduce((m, v, i) => Math.max(m, v - t[i]), 0);

describe('destinations: one encode, many RTMP destinations', function () {
  this.timeout(240_000);
  let a: Rtmp;
  let b: Rtmp;
  let s: Stack;
  const hlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-hls-test-'));
  const key = uniqueKey('dest');
  const get = async (k = key) => (await request(s.url).get(`/api/stream/${k}`).expect(200)).body as { health: string; destinations: Dest[]; hls: string | null };
  const dest = async (id: string) => (await get()).destinations.find((d) => d.id === id);

  before(async () => {
    [a, b] = await Promise.all([startBenchRtmp(), startBenchRtmp()]);
    const env = { RTMP_URL: a.base, WIDTH: '640', HEIGHT: '360', BROADCAST_FPS: '30', VIDEO_BITRATE: '800k', FFMPEG_MAX_FAILURES: '20', HLS_DIR: hlsDir };
    s = await startStack({ env, workerOptions: { broadcast: await createBroadcastFactory(testConfig(env)) } });
  });
  after(async () => {
    await s?.close();
    await Promise.all([a?.close(), b?.close()]);
    fs.rmSync(hlsDir, { recursive: true, force: true });
    expect(ffmpegProcs(), 'no FFmpeg outlives the worker').to.deep.equal([]);
  });

  it('refuses bad destinations with a 400 naming the field, and unknown streams or ids with a 404', async () => {
    const bad: Array<[unknown, RegExp]> = [
      [[], /destinations/],
      [[{ url: 'http://h/live/k' }], /destinations\.0\.url/],
      [[{ url: 'rtmp://h/k' }], /destinations\.0\.url/],
      [[{ url: 'rtmp://h/live/k', name: '' }], /destinations\.0\.name/],
      [[{ url: 'rtmp://h/live/k', extra: 1 }], /destinations\.0/],
      [Array.from({ length: 9 }, (_, i) => ({ url: `rtmp://h/live/k${i}` })), /destinations/],
    ];
    for (const [destinations, field] of bad) {
      const res = await request(s.url).post('/api/stream').send({ streamKey: uniqueKey('bad'), screenId: 'testcard', destinations }).expect(400);
      expect(res.body.message).to.match(field);
    }
    const none = uniqueKey('none');
    await request(s.url).get(`/api/stream/${none}`).expect(404);
    await request(s.url).post(`/api/stream/${none}/destinations`).send({ url: 'rtmp://h/live/k' }).expect(404);
    await request(s.url).delete(`/api/stream/${none}/destinations/d-1`).expect(404);
    expect(ffmpegProcs()).to.deep.equal([]);
  });

  it('three destinations on two servers: one server down 30 s, the others get every frame, it comes back within 10 s', async () => {
    const urls = [`${a.base}/${key}-a1`, `${a.base}/${key}-a2`, `${b.base}/${key}-b1`];
    await request(s.url).post('/api/stream').send({ streamKey: key, screenId: 'testcard', destinations: urls.map((url, i) => ({ url, name: `dest ${i + 1}` })) }).expect(201);
    const st = await waitFor(async () => {
      const v = await get();
      return v.destinations.length === 3 && v.destinations.every((d) => d.health === 'live') ? v : null;
    }, 30_000, 200, 'three destinations live');
    expect(st.health).to.equal('live');
    for (const d of st.destinations) expect(d.url, 'key redacted').not.to.include(key);
    expect(encoders(), 'one encode').to.have.length(1);
    expect(outputsFor(key)).to.have.length(3);
    const [, , onB] = st.destinations;

    const readers = [readTimestamps(urls[0]), readTimestamps(urls[1])];
    try {
      await waitFor(() => readers.every((r) => r.times().length > 30), 15_000, 100, 'readers receiving');
      await b.close();
      const downAt = Date.now();
      const seen = new Set<string>();
      await waitFor(async () => {
        const v = await get();
        seen.add(v.health);
        return (await dest(onB.id))?.health === 'reconnecting';
      }, 25_000, 200, 'the dead destination reconnecting');
      while (Date.now() - downAt < 30_000) {
        const v = await get();
        seen.add(v.health);
        expect(v.destinations.filter((d) => d.id !== onB.id).map((d) => d.health)).to.deep.equal(['live', 'live']);
        await sleep(1000);
      }
      b = await startBenchRtmp({ port: b.port });
      const backAt = Date.now();
      await waitFor(async () => (await dest(onB.id))?.health === 'live', 10_000, 100, 'live within 10 s of the return');
      console.log(`      destination back ${((Date.now() - backAt) / 1000).toFixed(1)} s after its server`);
      await sleep(1500);
      expect([...seen]).not.to.include('failed');
      const back = (await dest(onB.id))!;
      expect(back.restarts).to.be.at.least(1);
      expect(back.lastError ?? '').not.to.include(key);
      for (const r of readers) {
        const t = r.times();
        expect(t[t.length - 1] - t[0], 'read across the outage').to.be.greaterThan(32);
        expect(maxGap(t), 'largest gap in a live destination').to.be.at.most(0.5);
      }
      const others = (await get()).destinations.filter((d) => d.id !== onB.id);
      for (const d of others) expect(d.restarts, `${d.name} never restarted`).to.equal(0);
      expect(encoders()).to.have.length(1);
    } finally {
      readers.forEach((r) => r.close());
    }
  });

  it('adds and removes a destination on a live stream; the added one is H.264 Main yuv420p, 2 s keyframes, AAC', async () => {
    const before = (await get()).destinations;
    const url = `${b.base}/${key}-added`;
    const res = await request(s.url).post(`/api/stream/${key}/destinations`).send({ url, name: 'added' }).expect(201);
    const id = res.body.id as string;
    expect(id).to.match(/^d-/);
    await waitFor(async () => (await dest(id))?.health === 'live', 20_000, 200, 'the added destination live');
    const p = await ffprobeRtmp(url, 5);
    expect(p.streams.find((x) => x.codec_type === 'video')).to.include({ codec_name: 'h264', profile: 'Main', pix_fmt: 'yuv420p', width: 640, height: 360 });
    expect(p.streams.find((x) => x.codec_type === 'audio')).to.include({ codec_name: 'aac', sample_rate: '44100', channels: 2 });
    for (const g of keyframeIntervals(p)) expect(g).to.be.within(1.9, 2.05);
    expect(encoders(), 'still one encode').to.have.length(1);

    // Up to 8: the 9th is refused.
    const extra: string[] = [];
    for (let i = 0; i < 4; i++) extra.push((await request(s.url).post(`/api/stream/${key}/destinations`).send({ url: `${a.base}/${key}-x${i}` }).expect(201)).body.id);
    const full = await request(s.url).post(`/api/stream/${key}/destinations`).send({ url: `${a.base}/${key}-x9` }).expect(409);
    expect(full.body.message).to.match(/8 destinations/);
    await request(s.url).post(`/api/stream/${key}/destinations`).send({ url: 'ftp://nope/live/k' }).expect(400);

    for (const x of [...extra, id]) await request(s.url).delete(`/api/stream/${key}/destinations/${x}`).expect(200);
    await request(s.url).delete(`/api/stream/${key}/destinations/${id}`).expect(404);
    await request(s.url).delete(`/api/stream/${key}/destinations/d-nosuch`).expect(404);
    await waitFor(() => outputsFor(key).length === 3, 10_000, 100, 'the removed outputs gone');
    const after = (await get()).destinations;
    expect(after.map((d) => d.id)).to.deep.equal(before.map((d) => d.id));
    for (const d of after) {
      expect(d.health).to.equal('live');
      expect(d.restarts, 'adding and removing touched no other destination').to.equal(before.find((x) => x.id === d.id)!.restarts);
    }
  });

  it('keeps the destinations in the start payload state, so a takeover starts with them', async () => {
    const h = await s.redis.hgetall(`streaming:state:${key}`);
    expect(JSON.parse(h.destinations).map((d: { id: string }) => d.id)).to.deep.equal((await get()).destinations.map((d) => d.id));
    await request(s.url).delete(`/api/stream?streamKey=${key}`).expect(200);
    await waitFor(() => outputsFor(key).length === 0 && encoders().length === 0, 10_000, 100, 'all FFmpeg of the stream gone');
  });

  it('writes HLS beside the destinations, served by the web role and playable by ffprobe', async () => {
    const k = uniqueKey('hls');
    await request(s.url).post('/api/stream').send({ streamKey: k, screenId: 'testcard', hls: true }).expect(201);
    const v = await waitFor(async () => {
      const r = await request(s.url).get(`/api/stream/${k}`);
      return r.status === 200 && r.body.health === 'live' && r.body.hls ? r.body : null;
    }, 20_000, 200, 'live with HLS');
    expect(v.destinations).to.have.length(1); // RTMP_URL's
    expect(v.destinations[0]).to.include({ id: 'rtmp-1', health: 'live' });
    const playlist = await waitFor(async () => {
      const r = await request(s.url).get(v.hls);
      return r.status === 200 && /seg\d+\.ts/.test(r.text) ? r : null;
    }, 20_000, 300, 'a playlist with a segment');
    expect(playlist.headers['content-type']).to.match(/mpegurl/);
    const probe = await new Promise<string>((resolve, reject) =>
      spawn('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,profile', '-of', 'csv=p=0', `${s.url}${v.hls}`])
        .on('error', reject)
        .stdout!.on('data', (d) => resolve(String(d))),
    );
    expect(probe).to.match(/h264/);
    await request(s.url).get(`/hls/${k}/../../etc/passwd`).expect(404);
    await request(s.url).get(`/hls/${k}/seg99999.ts`).expect(404);
    await request(s.url).get('/vendor/hls/hls.min.js').expect(200).expect('content-type', /javascript/);
    await request(s.url).delete(`/api/stream?streamKey=${k}`).expect(200);
    await waitFor(() => !fs.existsSync(path.join(hlsDir, k)), 10_000, 100, 'the HLS directory removed');
  });
});
