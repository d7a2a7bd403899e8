// public/vote.html in headless Chromium against the real poll router, Redis and PostgreSQL:
// one tap votes, the confirmation shows, the bars move, a second vote is refused, and other
// people's votes and a new poll appear without a reload.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { migrate } from '../src/db/index.js';
import type { PollService } from '../src/polls/service.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { pollApp, PollHarness, uniquePrefix } from './helpers/polls.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('vote page (headless Chromium)', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  let h: PollHarness;
  let polls: PollService;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-vote-page-'));

  const bar = (key: string) => page.locator(`button.option[data-key="${key}"] .bar`).evaluate((el) => (el as HTMLElement).style.width);
  const count = (key: string) => page.locator(`button.option[data-key="${key}"] .count`).textContent();

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) this.skip();
    t = await DATABASE_KINDS[0].open();
    await migrate(t.db.pool);
    h = new PollHarness(uniquePrefix('page'));
    polls = await h.service(t.db.pool, { subscribe: true });
    await polls.generate({ draft: { question: 'Who wins: Ryu or Ken?', options: ['Ryu', 'Ken', 'Chun-Li'] }, durationSeconds: 600 });
    await polls.vote('A', 'someone-else');
    const app = pollApp(polls, { static: path.resolve('public') });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 420, height: 760 } });
  });

  after(async () => {
    await browser?.close();
    server?.close();
    await h?.close();
    await t?.cleanup();
  });

  it('shows the poll with live counts', async () => {
    await page.goto(`${base}/vote.html`);
    await page.getByRole('heading', { name: 'Who wins: Ryu or Ken?' }).waitFor();
    await page.locator('button.option').nth(2).waitFor();
    expect(await page.locator('button.option .label').allTextContents()).to.deep.equal(['Ryu', 'Ken', 'Chun-Li']);
    expect(await bar('A')).to.equal('100%');
    expect(await bar('B')).to.equal('0%');
    expect(await page.locator('#total').textContent()).to.equal('1 vote');
    expect(await page.locator('#countdown').textContent()).to.match(/^(9|10):\d\d$/);
  });

  it('votes with one tap, confirms, and moves the bars', async () => {
    await page.getByRole('button', { name: /Ken/ }).click();
    await page.getByText('Thanks! Your vote for Ken is in.').waitFor();
    expect(await bar('B')).to.equal('50%');
    expect(await bar('A')).to.equal('50%');
    expect(await count('B')).to.equal('1 vote');
    expect(await page.locator('button.option[data-key="B"]').getAttribute('aria-pressed')).to.equal('true');
    expect(await page.locator('button.option').first().isDisabled()).to.equal(true);
    await page.waitForTimeout(500); // let the bars' CSS transition finish
    await page.screenshot({ path: path.join(shots, 'after-vote.png'), fullPage: true });
    const view = await polls.refresh();
    expect(view?.options.map((o) => o.votes)).to.deep.equal([1, 1, 0]);
  });

  it('says "you already voted" when the same browser tries again (even after clearing its storage)', async () => {
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.locator('button.option').nth(2).waitFor();
    expect(await page.locator('button.option').first().isDisabled()).to.equal(false);
    await page.getByRole('button', { name: /Chun-Li/ }).click();
    await page.getByText('You already voted in this poll.').waitFor();
    expect(await page.locator('button.option').first().isDisabled()).to.equal(true);
    const view = await polls.refresh();
    expect(view?.options.map((o) => o.votes)).to.deep.equal([1, 1, 0]); // nothing changed
  });

  it("shows other people's votes and a new poll without a reload", async () => {
    await polls.vote('C', 'viewer-2');
    await polls.vote('C', 'viewer-3');
    await page.waitForFunction(() => document.querySelector('#total')?.textContent === '4 votes', null, { timeout: 5000 });
    expect(await bar('C')).to.equal('50%');
    expect(await count('C')).to.equal('2 votes');
    await page.waitForTimeout(500); // let the bars' CSS transition finish
    await page.screenshot({ path: path.join(shots, 'live-update.png'), fullPage: true });

    await polls.generate({ draft: { question: 'Scorpion or Sub-Zero?', options: ['Scorpion', 'Sub-Zero'] } });
    await page.getByRole('heading', { name: 'Scorpion or Sub-Zero?' }).waitFor({ timeout: 5000 });
    await page.getByText('A new poll is up').waitFor();
    expect(await page.locator('button.option').count()).to.equal(2);
    expect(await page.locator('button.option').first().isDisabled()).to.equal(false);
    expect(await page.locator('#countdown').isHidden()).to.equal(true);
    await page.getByRole('button', { name: /Sub-Zero/ }).click();
    await page.getByText('Thanks! Your vote for Sub-Zero is in.').waitFor();
    await page.waitForTimeout(500); // let the bars' CSS transition finish
    await page.screenshot({ path: path.join(shots, 'new-poll.png'), fullPage: true });
    console.log(`      screenshots: ${shots}`);
  });
});
