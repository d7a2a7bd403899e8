// public/polls.html in Chromium against the whole web role (runWeb: the show loop, the
// management routes) and a worker rendering a poll stream: queue a poll, close the current one,
// and watch the queued poll go on air, in the page and in the stream's preview.
import { expect } from 'chai';
import { loadImage, createCanvas } from '@napi-rs/canvas';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { migrate } from '../src/db/index.js';
import { WorkerRuntime } from '../src/jobs/runtime.js';
import { connectRedis, runWeb, type WebRole } from '../src/roles.js';
import type { RedisConnections } from '../src/redis/index.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { launchBrowser } from './helpers/browser.js';
import { testConfig, uniqueKey, waitFor } from './helpers/env.js';
import { deleteKeys } from './helpers/stack.js';

const pgKind = DATABASE_KINDS.find((k) => !k.embedded) ?? DATABASE_KINDS[0];

async function grey(png: Buffer): Promise<Uint8ClampedArray> {
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  c.getContext('2d').drawImage(img, 0, 0);
  return c.getContext('2d').getImageData(0, 0, img.width, img.height).data;
}

describe('polls page (public/polls.html) in Chromium', function () {
  this.timeout(90_000);
  let t: TestDatabase;
  let web: WebRole;
  let worker: WorkerRuntime;
  let conns: RedisConnections;
  let b: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let url: string;
  const streamKey = uniqueKey('polls-page');

  before(async () => {
    t = await pgKind.open();
    await migrate(t.db.pool);
    const config = testConfig({ POLL_DURATION_SECONDS: '0', REVEAL_SECONDS: '5', PUBLIC_URL: 'https://show.example.com' });
    conns = await connectRedis(config, 'polls-page-test');
    web = await runWeb(config, t.db, conns);
    await deleteKeys(web.web.redis, 'sf:poll:*');
    await web.polls.generate({ draft: { question: 'Which poll is on air first?', options: ['This one', 'That one'] } });
    worker = new WorkerRuntime(config, conns);
    await worker.start();
    url = `http://127.0.0.1:${web.web.port}`;
    await request(url).post('/api/stream').send({ streamKey, screenId: 'poll', fps: 10 }).expect(201);
    b = await launchBrowser();
    page = await b.browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await b?.close();
    if (url) await request(url).delete(`/api/stream?streamKey=${streamKey}`);
    await worker?.close();
    await web?.close();
    await conns?.close();
    await t?.cleanup();
  });

  it('queues a poll, closes the current one, and the queued poll goes on air in the page and the preview', async () => {
    await page.goto(`${url}/polls?streamKey=${streamKey}`);
    await page.waitForFunction(() => Number(document.body.dataset.frames ?? 0) >= 3, undefined, { timeout: 20_000 });
    await page.waitForSelector('#onair-question:text("Which poll is on air first?")');
    const before = await page.locator('#preview').screenshot();

    await page.fill('#question', 'Queued from the page: who wins?');
    const inputs = page.locator('#create .option');
    await inputs.nth(0).fill('Guile');
    await inputs.nth(1).fill('Blanka');
    await inputs.nth(2).fill('Dhalsim');
    await page.fill('#duration', '0');
    await page.click('#queue');
    await page.waitForSelector('#queue-list li:has-text("Queued from the page: who wins?")');
    await page.waitForSelector('#message.ok');

    await page.click('#close');
    await page.waitForSelector('#phase:text("reveal")', { timeout: 10_000 });
    await page.waitForSelector('#onair-question:text("Queued from the page: who wins?")', { timeout: 20_000 });
    await page.waitForSelector('#history tbody tr:has-text("Which poll is on air first?")');
    expect(await page.textContent('#history tbody')).to.include('no votes');
    await page.waitForSelector('#queue-list li:has-text("Nothing queued")');

    // The preview shows the new poll: its frames go on arriving, and the picture changed a lot
    // (the question, three options instead of two, the phase).
    const framesAt = Number(await page.evaluate(() => document.body.dataset.frames));
    await page.waitForFunction((n) => Number(document.body.dataset.frames ?? 0) >= n + 5, framesAt, { timeout: 15_000 });
    const pollId = Number(await page.evaluate(() => document.body.dataset.pollId));
    await waitFor(async () => (await request(url).get('/api/poll')).body.id === pollId, 5000);
    const after = await page.locator('#preview').screenshot();
    const [pa, pb] = await Promise.all([grey(before), grey(after)]);
    let differ = 0;
    for (let i = 0; i < pa.length; i += 4) if (Math.abs(pa[i] - pb[i]) + Math.abs(pa[i + 1] - pb[i + 1]) + Math.abs(pa[i + 2] - pb[i + 2]) > 60) differ++;
    expect(differ / (pa.length / 4)).to.be.greaterThan(0.03);
    await page.screenshot({ path: `${b.dir}/polls-page.png` });
  });
});
