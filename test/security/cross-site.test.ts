// From a real Chromium: a page on another site tries to drive the API (fetch without and with
// a preflight, a form post, a socket.io connection) and fails, changing nothing; our own
// pages load under the Content-Security-Policy without a violation.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { ROOT } from '../fixtures/realtime.js';
import { startSecStack, type SecStack } from './harness.js';
import { waitFor } from '../helpers/env.js';

const SIO = fs.readFileSync(path.join(ROOT, 'node_modules/socket.io/client-dist/socket.io.min.js'));

function evilServer(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const page = `<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="f" method="post" action="${target}/stream/start" enctype="text/plain" target="sink"><input name='{"fps":15,"x":"' value='"}'></form>
<form id="g" method="post" action="${target}/stream/start" target="sink"></form>
<script src="/sio.js"></script>
</body></html>`;
  const server = http.createServer((req, res) => {
    if (req.url === '/sio.js') return res.end(SIO);
    res.setHeader('content-type', 'text/html');
    res.end(page);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        // localhost vs 127.0.0.1: another site, not only another origin.
        url: `http://localhost:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

describe('security: cross-site, from Chromium', function () {
  this.timeout(90_000);
  let s: SecStack;
  let evil: Awaited<ReturnType<typeof evilServer>>;
  let b: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let baseline: string;
  const answers: { url: string; status: number; method: string }[] = [];

  before(async () => {
    s = await startSecStack();
    await s.redis.del('streaming:state', 'streaming:stop_requested');
    evil = await evilServer(s.url);
    b = await launchBrowser();
    page = await b.browser.newPage();
    page.on('response', (r) => r.url().startsWith(s.url) && answers.push({ url: r.url(), status: r.status(), method: r.request().method() }));
    baseline = await s.snapshot();
    await page.goto(`${evil.url}/`);
  });
  after(async () => {
    await b?.close();
    await evil?.close();
    await s?.close();
  });

  it('a simple fetch (text/plain, no-cors) to /stream/start is refused and starts nothing', async () => {
    const r = await page.evaluate(
      (t) =>
        fetch(`${t}/stream/start`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"fps":15}' }).then(
          () => 'sent',
          (err) => `failed: ${err.message}`,
        ),
      s.url,
    );
    expect(r).to.match(/^(sent|failed)/);
    expect(await s.snapshot()).to.equal(baseline);
    expect(answers.filter((a) => a.method === 'POST').every((a) => a.status === 403)).to.equal(true);
  });

  it('a JSON fetch needs a preflight the service does not grant', async () => {
    const r = await page.evaluate(
      (t) =>
        fetch(`${t}/stream/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"fps":15}' }).then(
          (res) => `status ${res.status}`,
          (err) => `failed: ${err.message}`,
        ),
      s.url,
    );
    expect(r).to.match(/^failed/);
    expect(await s.snapshot()).to.equal(baseline);
  });

  it('form posts (text/plain and urlencoded) to /stream/start are refused', async () => {
    for (const id of ['f', 'g']) {
      // A fresh page per form: a second submit must not cancel the first one's navigation.
      await page.goto(`${evil.url}/`);
      const seen = answers.length;
      await page.evaluate((form) => (document.getElementById(form) as HTMLFormElement).submit(), id);
      // The frame's navigation shows up as a response of the page; give a loaded machine time.
      await waitFor(() => answers.slice(seen).some((a) => a.method === 'POST'), 45_000, 100, `the answer to form ${id}`);
    }
    const posts = answers.filter((a) => a.method === 'POST' && a.url === `${s.url}/stream/start`);
    expect(posts.length).to.be.at.least(2);
    expect(posts.map((a) => a.status).filter((st) => st !== 403)).to.deep.equal([]);
    expect(await s.snapshot()).to.equal(baseline);
  });

  it('a socket.io connection from the other site fails (websocket and polling)', async () => {
    // A string, not a function: the test's transpiler would add helpers the page does not have.
    const results = (await page.evaluate(`(async () => {
      const attempt = (transports) => new Promise((resolve) => {
        const sock = window.io(${JSON.stringify(s.url)}, { transports, reconnection: false, timeout: 5000 });
        sock.on('connect', () => { sock.close(); resolve('connected'); });
        sock.on('connect_error', (e) => { sock.close(); resolve('refused: ' + e.message); });
      });
      return [await attempt(['websocket']), await attempt(['polling'])];
    })()`)) as string[];
    for (const r of results) expect(r).to.match(/^refused/);
  });

  it('the service still serves its own pages, which load under its CSP without a violation', async () => {
    const own = await b.browser.newPage();
    const problems: string[] = [];
    own.on('console', (m) => /Content Security Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
    own.on('pageerror', (e) => problems.push(e.message));
    for (const p of ['/', '/vote.html', '/viewer.html', '/streamer.html']) {
      const res = await own.goto(`${s.url}${p}`);
      expect(res?.status(), p).to.equal(200);
      await own.waitForLoadState('networkidle').catch(() => {});
    }
    await own.goto(`${s.url}/vote.html`);
    await own.waitForSelector('#options button', { timeout: 10_000 });
    await own.click('#options button');
    await own.waitForFunction(() => /is in|already voted/i.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 10_000 });
    expect(problems).to.deep.equal([]);
    expect((await (await fetch(`${s.url}/api/poll`)).json()).total).to.equal(1);
    await own.close();
  });
});
