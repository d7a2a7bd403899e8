// The dashboard's live graphs and the session history page in a real headless Chromium.
import { expect } from 'chai';
import request from 'supertest';
import type { Page } from 'playwright-core';
import { migrate, SessionRepository } from '../src/db/index.js';
import { redactKey } from '../src/logger.js';
import { sessionsRouter } from '../src/routes/sessions.js';
import { startStack, type Stack } from './helpers/stack.js';
import { launchBrowser } from './helpers/browser.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { uniqueKey } from './helpers/env.js';

describe('dashboard graphs and session history in Chromium', function () {
  this.timeout(90_000);
  let t: TestDatabase;
  let s: Stack;
  let b: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const key = uniqueKey('graphs');

  before(async () => {
    t = await DATABASE_KINDS[0].open();
    await migrate(t.db.pool);
    const repo = new SessionRepository(t.db.pool);
    for (let i = 0; i < 25; i++) {
      const id = await repo.recordSessionStart({ streamKey: i < 3 ? 'graph-beta' : 'graph-alpha', screenId: 'testcard', taskId: `task-${i}`, startedAt: new Date(Date.UTC(2026, 0, 1, 0, i)) });
      await repo.recordSessionEnd(id, { stopReason: 'requested', frames: 1000 + i, stoppedAt: new Date(Date.UTC(2026, 0, 1, 0, i, 30)) });
    }
    s = await startStack({ web: { routers: () => [sessionsRouter({ pool: t.db.pool })] } });
    b = await launchBrowser();
    page = await b.browser.newPage({ viewport: { width: 1280, height: 1100 } });
  });
  after(async () => {
    await b?.close();
    await request(s.url).delete(`/api/stream?streamKey=${key}`);
    await s?.close();
    await t?.cleanup();
  });

  it('draws fps, bitrate, dropped frames and viewers per stream, live', async () => {
    await request(s.url).post('/api/stream').send({ streamKey: key, screenId: 'testcard', fps: 20 }).expect(201);
    await page.goto(`${s.url}/`);
    const stream = redactKey(key);
    // Rendered fps (no broadcast in this stack) near the preview's 20, after a few seconds of points.
    await page.waitForFunction(
      (name) => {
        const box = document.querySelector('[data-graph="fps"]') as HTMLElement | null;
        const last = box?.dataset.last ? JSON.parse(box.dataset.last)[name] : null;
        return Number(document.body.dataset.graphPoints) >= 5 && typeof last === 'number' && last > 12;
      },
      stream,
      { timeout: 30_000 },
    );
    const graphs = await page.$$eval('.graph', (els) => els.map((e) => (e as HTMLElement).dataset.graph));
    expect(graphs).to.deep.equal(['fps', 'bitrate', 'dropped', 'viewers']);
    // The dashboard's own preview is not open for this stream; an SSE client of ours is counted.
    const sse = await fetch(`${s.url}/stream/feed?streamKey=${key}`);
    await page.waitForFunction(
      (name) => JSON.parse((document.querySelector('[data-graph="viewers"]') as HTMLElement).dataset.last ?? '{}')[name] === 1,
      stream,
      { timeout: 10_000 },
    );
    await sse.body?.cancel();
    // The fps series is drawn: its colour (#58a6ff) covers a line's worth of the chart's canvas.
    const drawn = await page.$eval('[data-graph="fps"] canvas', (c) => {
      const canvas = c as HTMLCanvasElement;
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - 88) < 30 && Math.abs(px[i + 1] - 166) < 30 && px[i + 2] > 220 && px[i + 3] > 200) n++;
      return n;
    });
    expect(drawn).to.be.greaterThan(100);
    expect(await page.textContent('[data-graph="fps"] .u-legend')).to.include(stream);
    await page.screenshot({ path: `${b.dir}/dashboard-graphs.png`, fullPage: true });
  });

  it('lists the session history a page at a time, newest first, and filters by stream', async () => {
    await page.goto(`${s.url}/sessions.html`);
    await page.waitForFunction(() => document.body.dataset.sessions === '20');
    expect(await page.textContent('#summary')).to.equal('Sessions 1–20 of 25');
    expect(await page.textContent('#rows tr:first-child td:nth-child(7)')).to.equal('1024');
    await page.click('#next');
    await page.waitForFunction(() => document.body.dataset.sessions === '5');
    expect(await page.textContent('#summary')).to.equal('Sessions 21–25 of 25');
    expect(await page.isDisabled('#next')).to.equal(true);
    await page.fill('#streamKey', 'graph-beta');
    await page.press('#streamKey', 'Enter');
    await page.waitForFunction(() => document.body.dataset.sessions === '3');
    expect(await page.textContent('#rows tr:first-child td:nth-child(2)')).to.equal(redactKey('graph-beta'));
    expect(await page.textContent('#rows tr:first-child td:nth-child(5)')).to.equal('30.0 s');
  });
});
