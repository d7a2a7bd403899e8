// Pure pieces: config parsing, key names, the frame codec, the clock-paced loop.
import { expect } from 'chai';
import { parseConfig, ConfigError } from '../src/config.js';
import { keys, setDefaultStreamKey } from '../src/keys.js';
import { encodeFrame, decodeFrame } from '../src/realtime/frame-codec.js';
import { RenderLoop } from '../src/render/loop.js';
import { redactKey } from '../src/logger.js';
import { waitFor } from './helpers/env.js';

describe('config', () => {
  it('has laptop defaults', () => {
    const c = parseConfig({});
    expect(c).to.include({ PORT: 3000, REDIS_URL: 'redis://127.0.0.1:6379', WIDTH: 1280, HEIGHT: 720, BROADCAST_FPS: 30, VIDEO_BITRATE: '2500k' });
    expect(c.DATABASE_URL).to.equal(undefined);
    expect(c.RTMP_URL).to.equal(undefined);
  });

  it('lists every problem at once', () => {
    try {
      parseConfig({ PORT: 'abc', WIDTH: '1281', VIDEO_BITRATE: 'fast', NODE_ENV: 'production' });
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).to.match(/PORT/);
      expect(problems).to.match(/WIDTH/);
      expect(problems).to.match(/VIDEO_BITRATE/);
      expect(problems).to.match(/API_TOKEN is required when NODE_ENV=production/);
    }
  });

  it('treats empty strings as unset, as a .env file writes them', () => {
    expect(parseConfig({ DATABASE_URL: '', PORT: '' }).PORT).to.equal(3000);
  });
});

describe('Redis key names (parity)', () => {
  it('keeps the Python names for the default stream and suffixes named ones', () => {
    setDefaultStreamKey('default');
    expect(keys.state('default')).to.equal('streaming:state');
    expect(keys.stopRequested('default')).to.equal('streaming:stop_requested');
    expect(keys.state('abc')).to.equal('streaming:state:abc');
    expect(keys.stopRequested('abc')).to.equal('streaming:stop_requested:abc');
    expect(keys.active()).to.equal('streaming:active');
    expect(keys.frames('abc')).to.equal('sf:frames:abc');
    expect(keys.lease('abc')).to.equal('sf:lease:abc');
  });
});

describe('frame codec', () => {
  it('round-trips sequence, time and bytes', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
    const f = decodeFrame(encodeFrame({ seq: 4_000_000_001, ts: 1795268987537.25, jpeg }));
    expect(f).to.deep.equal({ seq: 4_000_000_001, ts: 1795268987537.25, jpeg });
  });
  it('rejects what is not a frame', () => {
    expect(decodeFrame(Buffer.from('hello world, not a frame'))).to.equal(null);
    expect(decodeFrame(Buffer.alloc(3))).to.equal(null);
  });
});

describe('redaction', () => {
  it('never shows a stream key whole', () => {
    expect(redactKey('live_123456789_secret')).to.equal('live…(21)');
    expect(redactKey('abc')).to.equal('****');
  });
});

describe('RenderLoop', function () {
  this.timeout(30_000);
  // Checked against the clock at each tick, not by counting frames in a fixed window: that holds
  // on a loaded machine too (a late timer only means more skipped frames, never queued ones).
  it('paces frames on the clock and skips (not queues) ticks it is late for', async () => {
    const seen: { frame: number; at: number }[] = [];
    const t0 = performance.now();
    const loop = new RenderLoop(50, ({ frame }) => {
      seen.push({ frame, at: performance.now() });
      if (frame === 10) {
        const until = performance.now() + 105; // block ~5 periods
        while (performance.now() < until);
      }
    });
    loop.start();
    await waitFor(() => (seen.at(-1)?.frame ?? 0) >= 50, 20_000, 20, 'frame 50');
    loop.stop();
    const last = seen[seen.length - 1].frame;
    for (const { frame, at } of seen) {
      const slot = Math.floor((at - t0) / 20);
      // Frame n runs in its 20 ms slot (never ahead of the clock, no drift); a late tick jumps to
      // the current slot. The slack below is for a busy machine descheduling us mid-tick.
      expect(frame, `frame ${frame} at ${(at - t0).toFixed(1)} ms`).to.be.within(slot - 5, slot + 1);
    }
    expect(loop.skipped).to.be.at.least(4); // the blocked frames were skipped…
    expect(seen.length + loop.skipped).to.equal(last + 1); // …each frame number once, none run late
    for (let i = 1; i < seen.length; i++) expect(seen[i].frame).to.be.greaterThan(seen[i - 1].frame);
  });
});

describe('timecode scene', () => {
  it('draws a time that reads back exactly from the pixels', async () => {
    const { createCanvas } = await import('@napi-rs/canvas');
    const { timecode, readTimecode } = await import('../src/render/scenes/timecode.js');
    const c = createCanvas(1280, 720);
    const t = 1795268987537;
    timecode.draw(c.getContext('2d'), { width: 1280, height: 720, frame: 3, timeMs: t, startedMs: t, streamKey: 'k', fps: 30 }, undefined);
    const rgba = c.data();
    const gray = new Uint8Array(1280 * 720);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4];
    expect(readTimecode(gray, 1280)).to.equal(t);
  });
});
