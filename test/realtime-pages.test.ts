// The streamer and viewer pages in headless Chromium: the synthetic source streams, a viewer
// on the same key draws its frames (binary and base64), the vote widget votes and shows live
// bars, and the viewer says clearly when the stream ends, does not exist, or the server goes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestPolls } from './fixtures/redis-poll.js';
import { REDIS_URL, startNode, type Node } from './fixtures/realtime.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = process.env.SF_SHOTS_DIR ?? path.join(os.tmpdir(), 'sf-realtime-shots');

describe('realtime: streamer and viewer pages (headless Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let node: Node;
  let redis: Redis;
  let polls: TestPolls;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) this.skip();
    fs.mkdirSync(SHOTS, { recursive: true });
    redis = new Redis(REDIS_URL);
    polls = new TestPolls(redis, crypto.randomBytes(4).toString('hex'));
    await polls.create('Who wins the next round?', [
      { key: 'A', label: 'Ryu' },
      { key: 'B', label: 'Ken' },
      { key: 'C', label: 'Chun-Li' },
    ]);
    node = await startNode({ polls });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await node?.close();
    await polls?.cleanup();
    redis?.disconnect();
  });

  async function startStreamer(query = ''): Promise<{ page: Page; key: string }> {
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error('streamer page error:', err.message));
    await page.goto(`${node.url}/streamer.html?synthetic=1&autostart=1&name=pw${query}`);
    await page.waitForFunction(() => document.getElementById('key')!.textContent !== '—' && document.getElementById('state')!.textContent === 'live');
    return { page, key: (await page.textContent('#key'))!.trim() };
  }

  async function openViewer(key: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error('viewer page error:', err.message));
    await page.goto(`${node.url}/viewer.html?key=${encodeURIComponent(key)}`);
    return page;
  }

  /** Standard deviation of the canvas's luminance: about 0 for a blank or uniform canvas. */
  const canvasSpread = (page: Page) =>
    page.evaluate(() => {
      const c = document.getElementById('canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      let sq = 0;
      const n = d.length / 4;
      for (let i = 0; i < d.length; i += 4) {
        const y = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
        sum += y;
        sq += y * y;
      }
      const mean = sum / n;
      return Math.sqrt(sq / n - mean * mean);
    });

  it('a viewer draws the synthetic stream (binary JPEG), shows latency and the viewer count', async () => {
    const { page: streamer, key } = await startStreamer();
    const viewer = await openViewer(key);
    await viewer.waitForFunction(() => (window as any).viewerState.frames >= 15, null, { timeout: 15_000 });
    await viewer.waitForFunction(() => document.getElementById('overlay')!.classList.contains('hidden'));
    expect(await canvasSpread(viewer)).to.be.greaterThan(10);
    const latency = await viewer.evaluate(() => (window as any).viewerState.latency as number[]);
    const median = [...latency].sort((x, y) => x - y)[Math.floor(latency.length / 2)];
    expect(median).to.be.within(0, 500);
    await viewer.waitForFunction(() => /\d+ ms/.test(document.getElementById('latency')!.textContent!));
    await streamer.waitForFunction(() => document.getElementById('viewers')!.textContent === '1');
    expect(await viewer.textContent('#viewers')).to.equal('1');
    await viewer.screenshot({ path: path.join(SHOTS, 'viewer-binary.png') });
    await streamer.screenshot({ path: path.join(SHOTS, 'streamer.png') });

    // The streamer stops: the viewer says so.
    await streamer.click('#stop');
    await viewer.waitForFunction(() => /stream has ended/.test(document.getElementById('overlay')!.textContent!));
    expect(await viewer.textContent('#overlay')).to.match(/ended by streamer/);
    expect(await viewer.textContent('.vote-option[data-option="C"] .vote-label')).to.equal('Chun-Li');
    await viewer.screenshot({ path: path.join(SHOTS, 'viewer-ended.png') });
    await Promise.all([streamer.close(), viewer.close()]);
  });

  it('base64 frames are drawn too', async () => {
    const { page: streamer, key } = await startStreamer('&format=base64');
    const viewer = await openViewer(key);
    await viewer.waitForFunction(() => (window as any).viewerState.frames >= 10, null, { timeout: 15_000 });
    expect(await canvasSpread(viewer)).to.be.greaterThan(10);
    await viewer.screenshot({ path: path.join(SHOTS, 'viewer-base64.png') });
    await Promise.all([streamer.close(), viewer.close()]);
  });

  it('the vote widget votes and its bars follow poll:update from other voters', async () => {
    const viewer = await openViewer('');
    await viewer.waitForSelector('.vote-option[data-option="B"]');
    expect(await viewer.textContent('.vote-question')).to.equal('Who wins the next round?');
    await viewer.click('.vote-option[data-option="B"]');
    await viewer.waitForFunction(() => document.querySelector('.vote-message')!.textContent === 'Vote counted.');
    for (let i = 0; i < 3; i++) await polls.vote('A', `other-${i}`);
    await viewer.waitForFunction(() => document.querySelector('.vote-foot')!.textContent === '4 votes');
    expect(await viewer.textContent('.vote-option[data-option="A"] .vote-count')).to.equal('3 · 75%');
    expect(await viewer.textContent('.vote-option[data-option="B"] .vote-count')).to.equal('1 · 25%');
    expect(await polls.tally()).to.deep.equal({ A: 3, B: 1, C: 0 });
    await viewer.screenshot({ path: path.join(SHOTS, 'viewer-vote.png') });
    await viewer.close();
  });

  it('an unknown key says so; a server that goes away says so', async () => {
    const viewer = await openViewer('noSuchStream42');
    await viewer.waitForFunction(() => /No live stream with this key/.test(document.getElementById('overlay')!.textContent!));
    const { page: streamer, key } = await startStreamer();
    await viewer.fill('#key', key);
    await viewer.click('#watch');
    await viewer.waitForFunction(() => (window as any).viewerState.frames >= 3, null, { timeout: 15_000 });
    await node.close();
    await viewer.waitForFunction(() => /Disconnected from the server/.test(document.getElementById('overlay')!.textContent!));
    await streamer.waitForFunction(() => /Disconnected from the server/.test(document.getElementById('message')!.textContent!));
    await viewer.screenshot({ path: path.join(SHOTS, 'viewer-disconnected.png') });
  });
});
