// The dashboard in a real headless Chromium: Start → live frames → Stop → stopped.
import path from 'node:path';
import fs from 'node:fs';
import { expect } from 'chai';
import { loadImage } from '@napi-rs/canvas';
import type { Page } from 'playwright-core';
import { startStack, type Stack } from './helpers/stack.js';
import { launchBrowser } from './helpers/browser.js';

describe('dashboard (public/index.html) in Chromium', function () {
  this.timeout(60_000);
  let s: Stack;
  let b: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;

  before(async () => {
    s = await startStack();
    await s.redis.del('streaming:state', 'streaming:stop_requested');
    b = await launchBrowser();
    page = await b.browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  after(async () => {
    await b?.close();
    await s.redis.del('streaming:state', 'streaming:stop_requested');
    await s?.close();
  });

  it('starts a stream, shows live frames, stops it and says so', async () => {
    await page.goto(`${s.url}/`);
    await page.waitForSelector('#state:text("stopped")');
    await page.fill('#fps', '12');
    await page.fill('#quality', '80');
    await page.click('#start');

    // Frames arrive and are drawn: the <img> holds a decoded JPEG of the preview size.
    await page.waitForFunction(() => Number(document.body.dataset.frames ?? 0) >= 5, undefined, { timeout: 10_000 });
    const size = await page.$eval('#preview', (img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    expect(size).to.deep.equal([640, 360]);
    await page.waitForSelector('#state:text("live")', { timeout: 5000 });
    expect(await page.textContent('#status')).to.match(/fps12/);
    expect(await page.isDisabled('#start')).to.equal(true);

    const shot = path.join(b.dir, 'dashboard-live.png');
    await page.screenshot({ path: shot });
    // The screenshot shows the test card's colour bars, not a blank page.
    const img = await loadImage(fs.readFileSync(shot));
    expect(img.width).to.equal(1280);
    const { createCanvas } = await import('@napi-rs/canvas');
    const c = createCanvas(img.width, img.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, img.width, img.height).data;
    const colours = new Set<string>();
    for (let i = 0; i < px.length; i += 4 * 997) colours.add(`${px[i] >> 5},${px[i + 1] >> 5},${px[i + 2] >> 5}`);
    expect(colours.size).to.be.greaterThan(8);

    await page.click('#stop');
    await page.waitForSelector('#overlay:text("The stream has stopped.")', { timeout: 5000 });
    await page.waitForSelector('#state:text("stopped")', { timeout: 5000 });
    expect(await page.isDisabled('#start')).to.equal(false);
    expect(await s.redis.exists('streaming:state')).to.equal(0);
    await page.screenshot({ path: path.join(b.dir, 'dashboard-stopped.png') });
  });

  it('shows the server error when a start is refused', async () => {
    await page.goto(`${s.url}/`);
    await page.fill('#fps', '99');
    await page.click('#start');
    await page.waitForSelector('#message.error', { timeout: 5000 });
    expect(await page.textContent('#message')).to.match(/fps/);
  });

  it('shows each live worker with its headroom (issue 13)', async () => {
    await page.goto(`${s.url}/`);
    const id = s.worker!.workerId;
    await page.waitForSelector(`#workers-list dt:text("${id}")`, { timeout: 10_000 });
    // Admission is off in tests (testEnv): the room is what WORKER_CONCURRENCY leaves.
    // The stream of the first test has stopped: the next heartbeat (every 3 s) and refresh say so.
    await page.waitForFunction(() => /0 streams · room for 4 more/.test(document.getElementById('workers-list')?.textContent ?? ''), undefined, { timeout: 15_000 });
    expect(await page.textContent('#workers-state')).to.match(/more stream/);
  });

  it('says the server is unreachable when it goes away', async () => {
    await page.goto(`${s.url}/`);
    await page.waitForSelector('#state:text("stopped")');
    await s.web.close();
    await page.waitForSelector('#state:text("unreachable")', { timeout: 8000 });
    expect(await page.textContent('#message')).to.match(/unreachable/i);
  });
});
