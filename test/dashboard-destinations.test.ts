// The dashboard's destinations and HLS player in a real headless Chromium: a running stream's
// destinations with their state, add one through the form, remove it, and the broadcast played
// with hls.js from the web role's /hls route (hls.js itself served from node_modules).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type { Page } from 'playwright-core';
import { createBroadcastFactory } from '../src/render/broadcast.js';
import { startBenchRtmp } from '../bench/lib/rtmp-server.js';
import { startStack, type Stack } from './helpers/stack.js';
import { launchBrowser } from './helpers/browser.js';
import { testConfig, waitFor } from './helpers/env.js';

describe('dashboard destinations and HLS player in Chromium', function () {
  this.timeout(90_000);
  let s: Stack;
  let rtmp: Awaited<ReturnType<typeof startBenchRtmp>>;
  let b: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const hlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-hls-dash-'));

  before(async () => {
    rtmp = await startBenchRtmp();
    const env = { RTMP_URL: rtmp.base, WIDTH: '640', HEIGHT: '360', VIDEO_BITRATE: '800k', HLS: 'true', HLS_DIR: hlsDir };
    s = await startStack({ env, workerOptions: { broadcast: await createBroadcastFactory(testConfig(env)) } });
    await s.redis.del('streaming:state', 'streaming:stop_requested');
    b = await launchBrowser();
    page = await b.browser.newPage({ viewport: { width: 1280, height: 1000 } });
    if (process.env.DEBUG_PAGE) page.on('console', (m) => console.log('page:', m.text()));
  });
  after(async () => {
    await b?.close();
    await request(s.url).post('/stream/stop').send({}).catch(() => {});
    await waitFor(async () => !(await s.redis.exists('streaming:state')), 10_000, 100, 'stopped').catch(() => {});
    await s?.close();
    await rtmp?.close();
    fs.rmSync(hlsDir, { recursive: true, force: true });
  });

  it('shows each destination with its state, adds and removes one, and plays the broadcast', async () => {
    await request(s.url).post('/stream/start').send({ fps: 10 }).expect(200);
    await page.goto(`${s.url}/`);
    await page.waitForSelector('#destinations-panel li.destination[data-health="live"]', { timeout: 30_000 });
    expect(await page.$$eval('li.destination', (els) => els.map((e) => (e as HTMLElement).dataset.id))).to.deep.equal(['rtmp-1']);
    expect(await page.textContent('#destinations-panel')).not.to.include('/live/default');

    await page.fill('#dest-url', `${rtmp.base}/dash-added-key`);
    await page.fill('#dest-name', 'second');
    await page.click('#dest-add-btn');
    await page.waitForSelector('#dest-message:text("Destination added")');
    await page.waitForFunction(() => document.querySelectorAll('li.destination[data-health="live"]').length === 2, undefined, { timeout: 30_000 });
    expect(await page.textContent('#destinations-panel')).to.include('second');
    expect(await page.textContent('#destinations-panel')).not.to.include('dash-added-key');

    await page.fill('#dest-url', 'http://not-rtmp/live/k');
    await page.click('#dest-add-btn');
    await page.waitForSelector('#dest-message.error');
    expect(await page.textContent('#dest-message')).to.match(/url/);

    await page.click('li.destination:has-text("second") button.remove');
    await page.waitForFunction(() => document.querySelectorAll('li.destination').length === 1, undefined, { timeout: 10_000 });

    // The HLS player: hls.js loaded from our own origin, attached to the stream's playlist.
    await page.waitForSelector('#hls-video', { timeout: 20_000 });
    expect(await page.evaluate(() => typeof (window as unknown as { Hls?: unknown }).Hls)).to.equal('function');
    const canPlay = await page.evaluate(() => !!window.MediaSource && MediaSource.isTypeSupported('video/mp4; codecs="avc1.4d401e,mp4a.40.2"'));
    if (canPlay) {
      await page.evaluate(() => {
        const v = document.getElementById('hls-video') as HTMLVideoElement;
        v.muted = true; // autoplay policy; the track has sound and the controls unmute it
        void v.play();
      });
      if (process.env.DEBUG_PAGE) {
        await new Promise((r) => setTimeout(r, 8000));
        console.log(await page.evaluate(() => { const v = document.getElementById('hls-video') as HTMLVideoElement; return JSON.stringify({ t: v.currentTime, rs: v.readyState, ns: v.networkState, err: v.error?.message, paused: v.paused, buf: v.buffered.length ? [v.buffered.start(0), v.buffered.end(0)] : null }); }));
      }
      await page.waitForFunction(() => (document.getElementById('hls-video') as HTMLVideoElement).currentTime > 0.5, undefined, { timeout: 30_000 });
      expect(await page.evaluate(() => (document.getElementById('hls-video') as HTMLVideoElement).videoWidth)).to.equal(640);
    } else {
      console.log('      (this Chromium has no H.264/AAC: playback not checked, the player and playlist are)');
      const r = await request(s.url).get('/hls/default/index.m3u8');
      expect(r.status).to.equal(200);
    }
    await page.screenshot({ path: path.join(b.dir, 'dashboard-destinations.png'), fullPage: true });
  });
});
