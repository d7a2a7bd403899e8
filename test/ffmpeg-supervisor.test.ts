// Integration: canvas frames → the encoder (FfmpegSupervisor) → MPEG-TS → one `-c copy` FFmpeg per
// destination (Fanout) → embedded RTMP server → ffprobe.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { createCanvas } from '@napi-rs/canvas';
import { FfmpegSupervisor, type FfmpegHealth, type HealthEvent } from '../src/render/ffmpeg/supervisor.js';
import { BroadcastOutput } from '../src/render/ffmpeg/broadcast-output.js';
import type { OutputHealth } from '../src/render/ffmpeg/copy-output.js';
import type { BroadcastPlan } from '../src/render/thread-protocol.js';
import { encoders } from './helpers/ffmpeg-procs.js';
import { startRtmpServer, type RtmpServerHandle } from '../src/render/rtmp-server.js';
import { yuvPath } from '../src/render/yuv.js';

const FFMPEG = '/usr/bin/ffmpeg';
const W = 640;
const H = 360;
const FPS = 30;
const KEY = 'sfTestKey_9f3a2c';
/** As a worker plans it (broadcast.ts): I420 converted by libyuv when native/yuv is built, else RGBA for FFmpeg to convert. */
const INPUT = yuvPath(process.env.YUV_CONVERT === 'off' ? 'off' : 'auto').addon ? 'yuv420p' : 'rgba';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A scene with motion and fine detail everywhere, so CBR has something to hold down. */
function renderer(): () => Buffer {
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  let n = 0;
  return () => {
    n += 1;
    ctx.fillStyle = `hsl(${(n * 3) % 360}, 60%, 30%)`;
    ctx.fillRect(0, 0, W, H);
    for (let i = 0; i < 400; i++) {
      ctx.fillStyle = `rgb(${(Math.random() * 256) | 0},${(Math.random() * 256) | 0},${(Math.random() * 256) | 0})`;
      ctx.fillRect(Math.random() * W, Math.random() * H, 2 + Math.random() * 14, 2 + Math.random() * 14);
    }
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc((n * 7) % W, H / 2, 40, 0, Math.PI * 2);
    ctx.fill();
    return canvas.data();
  };
}

/** Feeds the supervisor on the clock, as the render loop does; dropped frames are not retried. */
function pump(sup: { writeFrame(b: Buffer): boolean }): () => void {
  const draw = renderer();
  const timer = setInterval(() => sup.writeFrame(draw()), 1000 / FPS);
  return () => clearInterval(timer);
}

function waitFor(what: string | (() => string), cond: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (cond()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`));
      }
    }, 20);
  });
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} failed: ${err.message} ${stderr}`)) : resolve(stdout),
    );
  });
}

interface Probe {
  streams: Array<{ codec_type: string; codec_name: string; profile?: string; pix_fmt?: string; width?: number; height?: number; r_frame_rate?: string; sample_rate?: string; channels?: number }>;
  packets: Array<{ codec_type: string; pts_time: string; size: string; flags: string }>;
}

function probe(url: string, seconds: number): Promise<Probe> {
  return run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-read_intervals', `%+${seconds}`, '-show_streams', '-show_packets', '-of', 'json', url], 20_000).then(
    (out) => JSON.parse(out) as Probe,
  );
}

/** Our ffmpeg children, from the kernel's point of view (zombies included). */
async function ffmpegChildren(): Promise<string[]> {
  const out = await run('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], 5000).catch(() => '');
  return out.split('\n').filter((l) => /\bffmpeg\b/.test(l));
}

/** 'gone' once the pid is reaped or a zombie; otherwise its /proc state letter. */
async function procState(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return !state || state === 'Z' || state === 'X' ? 'gone' : state;
}

describe('Broadcast (encoder + fan-out) with real FFmpeg and RTMP', function () {
  this.timeout(40_000);

  let server: RtmpServerHandle | undefined;
  let b: BroadcastOutput | undefined;
  let stopPump: (() => void) | undefined;
  let events: HealthEvent[];

  /** `urls` gets the port of the test's RTMP server; default: one destination on it. */
  async function setup(overrides: Partial<BroadcastPlan> & { urls?: (port: number) => string[] } = {}) {
    server = await startRtmpServer({ port: 0, host: '127.0.0.1' });
    const { urls, ...rest } = overrides;
    const list = (urls?.(server.port) ?? [`rtmp://127.0.0.1:${server.port}/live/${KEY}`]).map((url, i) => ({ id: `d${i + 1}`, url }));
    b = new BroadcastOutput({
      ffmpegPath: FFMPEG,
      settings: { width: W, height: H, fps: FPS, videoBitrate: '800k', audioBitrate: '128k', inputPixFmt: INPUT },
      streamKey: KEY,
      maxFailures: 10,
      stallSeconds: 5,
      retry: { initialMs: 100, maxMs: 400 },
      destinations: list,
      hlsDir: null,
      ...rest,
    });
    events = [];
    b.encoder.on('health', (e) => events.push(e));
    b.start();
    stopPump = pump(b);
    return { server, b, sup: b.encoder };
  }

  const health = (): FfmpegHealth => b!.encoder.stats().health;
  const waitHealth = (h: FfmpegHealth, timeoutMs = 10_000) => waitFor(() => `health ${h} (now ${health()})`, () => health() === h, timeoutMs);
  const dest = (id = 'd1') => b!.status().destinations.find((d) => d.id === id)!;
  const waitDest = (h: OutputHealth, id = 'd1', timeoutMs = 15_000) =>
    waitFor(() => `destination ${id} ${h} (now ${dest(id)?.health})`, () => dest(id)?.health === h, timeoutMs);

  beforeEach(() => {
    server = undefined;
    b = undefined;
    stopPump = undefined;
  });

  afterEach(async () => {
    stopPump?.();
    await b?.stop(2000);
    await server?.close();
    expect(await ffmpegChildren()).to.deep.equal([]);
  });

  it('broadcasts H.264 Main yuv420p at the set size, 30 fps, 2 s GOP, CBR 800k, with AAC', async () => {
    const { server, sup } = await setup();
    await waitHealth('live');
    await waitDest('live');
    const enc = encoders().find((e) => e.pid === sup.stats().pid)!;
    expect(enc.args[enc.args.indexOf('rawvideo') + 2], 'the encoder reads what the stage hands it').to.equal(INPUT);
    const [w0, t0] = [sup.stats().framesWritten, Date.now()];
    const p = await probe(`rtmp://127.0.0.1:${server.port}/live/${KEY}`, 6);
    // What the pump managed to feed: on a busy machine it falls below 30 fps, and so must the encoder.
    const fedFps = ((sup.stats().framesWritten - w0) * 1000) / (Date.now() - t0);

    const video = p.streams.find((s) => s.codec_type === 'video');
    const audio = p.streams.find((s) => s.codec_type === 'audio');
    expect(video).to.include({ codec_name: 'h264', profile: 'Main', pix_fmt: 'yuv420p', width: W, height: H, r_frame_rate: '30/1' });
    expect(audio).to.include({ codec_name: 'aac', sample_rate: '44100', channels: 2 });

    const vp = p.packets.filter((k) => k.codec_type === 'video');
    expect(vp.length).to.be.greaterThan(120);
    expect(p.packets.some((k) => k.codec_type === 'audio')).to.equal(true);
    const keyTimes = vp.filter((k) => k.flags.startsWith('K')).map((k) => Number(k.pts_time));
    expect(keyTimes.length).to.be.at.least(2);
    const gaps = keyTimes.slice(1).map((t, i) => t - keyTimes[i]);
    for (const gap of gaps) expect(gap).to.be.within(1.9, 2.05);

    const first = Number(vp[0].pts_time);
    const last = Number(vp[vp.length - 1].pts_time);
    const bytes = vp.slice(0, -1).reduce((sum, k) => sum + Number(k.size), 0);
    const kbps = (bytes * 8) / (last - first) / 1000;
    expect(kbps, `measured video bitrate ${kbps.toFixed(0)} kbit/s`).to.be.within(640, 960);

    const stats = sup.stats();
    expect(fedFps).to.be.above(10);
    expect(stats.fps, `fed ${fedFps.toFixed(1)} fps`).to.be.within(fedFps * 0.75, fedFps * 1.25);
    expect(stats.bitrateKbps).to.be.within(640, 1200);
    expect(stats.framesWritten).to.be.greaterThan(150);
    expect(stats.pid).to.be.a('number');
    expect(stats.restarts).to.equal(0);
    expect(events.map((e) => e.health)).to.deep.equal(['starting', 'live']);
    expect(dest()).to.include({ restarts: 0, lastError: null });
    expect(dest().bytes).to.be.greaterThan(100_000);
  });

  it('a destination reconnects when its RTMP server goes away and comes back; the encoder never stops', async () => {
    const { server: first, sup } = await setup();
    const port = first.port;
    await waitDest('live');
    await first.close();
    server = undefined;
    await waitDest('reconnecting');
    await new Promise((r) => setTimeout(r, 800)); // a few refused attempts while it is down
    server = await startRtmpServer({ port, host: '127.0.0.1' });
    await waitDest('live');
    expect(dest().restarts).to.be.at.least(1);
    expect(dest().lastError).to.be.a('string').and.not.include(KEY);
    expect(sup.stats()).to.include({ health: 'live', restarts: 0 });
    const again = await probe(`rtmp://127.0.0.1:${port}/live/${KEY}`, 1);
    expect(again.streams.map((s) => s.codec_name).sort()).to.deep.equal(['aac', 'h264']);
  });

  it('restarts an encoder killed with SIGKILL and counts it; the destinations rejoin', async () => {
    const { sup } = await setup();
    await waitHealth('live');
    await waitDest('live');
    const pid = sup.stats().pid!;
    process.kill(pid, 'SIGKILL');
    await waitHealth('reconnecting');
    await waitHealth('live');
    const stats = sup.stats();
    expect(stats.restarts).to.equal(1);
    expect(stats.pid).to.be.a('number').and.not.equal(pid);
    expect(stats.lastError).to.match(/SIGKILL/);
    await waitDest('live');
    expect(dest().restarts).to.equal(1);
  });

  it('kills and restarts a stalled encoder; frames offered meanwhile are dropped, not queued', async () => {
    const { sup } = await setup({ stallSeconds: 2 });
    await waitHealth('live');
    const pid = sup.stats().pid!;
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 700));
    const dropped = sup.stats().framesDropped;
    expect(dropped).to.be.greaterThan(5);
    await waitHealth('reconnecting', 5000);
    expect(sup.stats().lastError).to.match(/^stalled: no progress for 2 s/);
    await waitHealth('live');
    expect(sup.stats().restarts).to.equal(1);
    expect(sup.stats().pid).to.not.equal(pid);
  });

  it('never gives up on an unreachable destination, and keeps its key out of the error', async () => {
    const closed = await freePort();
    const { sup } = await setup({ urls: () => [`rtmp://127.0.0.1:${closed}/live/${KEY}`], maxFailures: 2 });
    await waitHealth('live');
    await waitFor('four failed attempts', () => dest().restarts >= 3, 15_000);
    expect(dest().health).to.equal('reconnecting');
    expect(dest().lastError).to.match(/Connection refused/);
    expect(dest().lastError).to.not.include(KEY);
    expect(dest().url).to.equal(`rtmp://127.0.0.1:${closed}/live/sfTe…(16)`);
    expect(sup.stats()).to.include({ health: 'live', restarts: 0 });
  });

  it('an encoder run that stayed live long enough resets the failure count', async () => {
    const { sup } = await setup({ maxFailures: 2, retry: { initialMs: 100, maxMs: 400, healthyRunMs: 400 } });
    for (let i = 1; i <= 2; i++) {
      await waitHealth('live');
      await new Promise((r) => setTimeout(r, 600));
      process.kill(sup.stats().pid!, 'SIGKILL');
      await waitHealth('reconnecting');
    }
    await waitHealth('live'); // with maxFailures 2, two short runs in a row would have been 'failed'
    expect(sup.stats().restarts).to.equal(2);
  });

  it('an FFmpeg that cannot be spawned fails with a clear lastError', async () => {
    const { sup } = await setup({ ffmpegPath: '/nonexistent/ffmpeg', maxFailures: 2, retry: { initialMs: 20 } });
    await waitHealth('failed');
    expect(sup.stats().lastError).to.equal('could not run FFmpeg (/nonexistent/ffmpeg): spawn /nonexistent/ffmpeg ENOENT');
    expect(sup.stats().pid).to.equal(undefined);
    await waitDest('failed', 'd1', 5000);
  });

  it('one dead destination does not stop the live one; one encode for both', async () => {
    const closed = await freePort();
    const { server, sup } = await setup({ urls: (port) => [`rtmp://127.0.0.1:${port}/live/${KEY}`, `rtmp://127.0.0.1:${closed}/live/${KEY}`] });
    await waitDest('live', 'd1');
    await waitDest('reconnecting', 'd2');
    const p = await probe(`rtmp://127.0.0.1:${server.port}/live/${KEY}`, 2);
    expect(p.streams.map((s) => s.codec_name).sort()).to.deep.equal(['aac', 'h264']);
    expect(sup.stats()).to.include({ health: 'live', restarts: 0 });
    expect(dest('d1').restarts).to.equal(0);
    // One encode for both (the dead destination's FFmpeg comes and goes between its retries).
    expect(encoders(), 'one encoder').to.have.length(1);
  });

  it('stop() ends FFmpeg gracefully, and SIGKILLs a hung one at the bound', async () => {
    const { sup } = await setup();
    await waitHealth('live');
    let t = Date.now();
    await b!.stop();
    expect(Date.now() - t).to.be.below(3000);
    expect(health()).to.equal('stopped');
    expect(await ffmpegChildren()).to.deep.equal([]);
    await b!.stop(); // idempotent
    stopPump?.();

    const hung = new FfmpegSupervisor({ ffmpegPath: FFMPEG, settings: { width: W, height: H, fps: FPS, videoBitrate: '800k', audioBitrate: '128k' }, streamKey: KEY, maxFailures: 3, stallSeconds: 30 });
    hung.on('data', () => {}); // its output read, as the fan-out does
    hung.start();
    const stopHungPump = pump(hung);
    try {
      await waitFor('second supervisor live', () => hung.stats().health === 'live', 10_000);
      process.kill(hung.stats().pid!, 'SIGSTOP');
      t = Date.now();
      await hung.stop(1000);
      expect(Date.now() - t).to.be.within(900, 2500);
      expect(hung.stats().health).to.equal('stopped');
      expect(await ffmpegChildren()).to.deep.equal([]);
    } finally {
      stopHungPump();
      await hung.stop();
    }
    void sup;
  });

  it("kills its FFmpeg on process 'exit', even one that would not exit by itself", async () => {
    server = await startRtmpServer({ port: 0, host: '127.0.0.1' });
    const module = new URL('../src/render/ffmpeg/supervisor.ts', import.meta.url).href;
    // The child stops its FFmpeg (SIGSTOP: deaf to stdin EOF and SIGTERM) and exits at once.
    const code = `
      import { FfmpegSupervisor } from ${JSON.stringify(module)};
      const sup = new FfmpegSupervisor({ ffmpegPath: ${JSON.stringify(FFMPEG)}, streamKey: 'k', maxFailures: 3, stallSeconds: 30,
        settings: { width: ${W}, height: ${H}, fps: ${FPS}, videoBitrate: '800k', audioBitrate: '128k' } });
      sup.on('data', () => {});
      sup.on('health', ({ health }) => {
        if (health !== 'live') return;
        const pid = sup.stats().pid;
        process.kill(pid, 'SIGSTOP');
        process.stdout.write(String(pid));
        process.exit(0);
      });
      sup.start();
      const frame = Buffer.alloc(${W * H * 4});
      setInterval(() => sup.writeFrame(frame), 33);`;
    const out = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], 20_000);
    const pid = Number(out.trim());
    expect(pid).to.be.greaterThan(0);
    try {
      let state = await procState(pid);
      for (let i = 0; i < 20 && state !== 'gone'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        state = await procState(pid);
      }
      expect(state, `ffmpeg ${pid} state`).to.equal('gone');
    } finally {
      if ((await procState(pid)) !== 'gone') process.kill(pid, 'SIGKILL');
    }
  });
});
