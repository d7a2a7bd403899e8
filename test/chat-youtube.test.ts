// YouTube Live Chat as a chat source, against a local stand-in of liveChatMessages.list: pages
// followed by pageToken, the server's pollingIntervalMillis honoured, votes through the real
// PollService (one per YouTube channel id), a failing page retried without losing messages,
// a refused key reported with the key redacted, and the end of the chat.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { migrate } from '../src/db/index.js';
import { countVotes } from '../src/polls/repo.js';
import type { PollService } from '../src/polls/service.js';
import { ChatBridge } from '../src/chat/bridge.js';
import { YouTubeChat } from '../src/chat/youtube.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';
import { PollHarness, uniquePrefix } from './helpers/polls.js';
import { waitFor, sleep } from './helpers/env.js';

const KEY = 'yt-api-key-0123456789';

class FakeYouTube {
  pages: { items: unknown[] }[] = [];
  requests: { at: number; pageToken: string | null; key: string | null }[] = [];
  failNext: { status: number; reason: string } | null = null;
  ended = false;
  interval = 200;
  private server!: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      this.requests.push({ at: Date.now(), pageToken: u.searchParams.get('pageToken'), key: u.searchParams.get('key') });
      const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (u.pathname !== '/youtube/v3/liveChat/messages' || u.searchParams.get('liveChatId') !== 'chat-1') return reply(404, { error: { errors: [{ reason: 'liveChatNotFound' }] } });
      if (u.searchParams.get('key') !== KEY) return reply(403, { error: { message: `bad key ${u.searchParams.get('key')}`, errors: [{ reason: 'forbidden' }] } });
      if (this.failNext) {
        const f = this.failNext;
        this.failNext = null;
        return reply(f.status, { error: { errors: [{ reason: f.reason }] } });
      }
      if (this.ended) return reply(403, { error: { errors: [{ reason: 'liveChatEnded' }] } });
      const at = Number(u.searchParams.get('pageToken')?.replace('p', '') ?? 0);
      const items = this.pages.slice(at).flatMap((p) => p.items);
      reply(200, { nextPageToken: `p${this.pages.length}`, pollingIntervalMillis: this.interval, items });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  post(messages: { channelId: string; text: string; type?: string }[]): void {
    this.pages.push({
      items: messages.map((m) => ({
        snippet: { type: m.type ?? 'textMessageEvent', displayMessage: m.text, textMessageDetails: { messageText: m.text }, authorChannelId: m.channelId },
        authorDetails: { channelId: m.channelId, displayName: `Viewer ${m.channelId}` },
      })),
    });
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('chat votes from YouTube Live Chat (local stand-in of liveChatMessages)', function () {
  this.timeout(60_000);
  let t: TestDatabase;
  let h: PollHarness;
  let svc: PollService;
  let yt: FakeYouTube;
  let base: string;
  const bridges: ChatBridge[] = [];

  before(async () => {
    t = await DATABASE_KINDS.find((k) => !k.embedded)!.open();
    await migrate(t.db.pool);
    h = new PollHarness(uniquePrefix('yt'));
    svc = await h.service(t.db.pool, { subscribe: true });
    yt = new FakeYouTube();
    base = await yt.start();
  });
  afterEach(async () => {
    for (const b of bridges.splice(0)) await b.stop();
  });
  after(async () => {
    await yt?.close();
    await h?.close();
    await t?.cleanup();
  });

  it('follows pageToken at the server\'s pollingIntervalMillis; one vote per channel id; a failed page loses nothing', async () => {
    const poll = (await svc.generate({ draft: { question: 'YT?', options: ['Ryu', 'Ken'] } })).poll;
    yt.post(Array.from({ length: 100 }, (_, i) => ({ channelId: `UC${i}`, text: i % 2 ? '!vote A' : '!b' })));
    const b = new ChatBridge(new YouTubeChat({ baseUrl: base, liveChatId: 'chat-1', apiKey: KEY, minIntervalMs: 20, backoff: { minMs: 50, maxMs: 100 } }), svc);
    bridges.push(b);
    b.start();
    await waitFor(async () => b.stats().votes === 100, 20_000, 20, '100 votes');
    yt.failNext = { status: 500, reason: 'backendError' };
    yt.post([...Array.from({ length: 50 }, (_, i) => ({ channelId: `UC${100 + i}`, text: '!A' })), { channelId: 'UC1', text: '!B' }, { channelId: 'UC999', text: 'sticker', type: 'superStickerEvent' }]);
    await waitFor(async () => b.stats().votes === 150, 20_000, 20, '150 votes after the failed page');
    await sleep(500);
    expect(await countVotes(t.db.pool, poll.id)).to.deep.equal({ A: 100, B: 50 });
    expect(b.stats()).to.include({ platform: 'youtube', connected: true, votes: 150, duplicates: 1 });
    // Each request carried the token of the answer before it; successful polls waited the server's interval.
    const ok = yt.requests.filter((r) => r.pageToken !== null);
    expect(ok.map((r) => r.pageToken).every((p) => /^p\d+$/.test(p!))).to.equal(true);
    const gaps = yt.requests.slice(1).map((r, i) => r.at - yt.requests[i].at);
    expect(gaps.filter((g) => g >= 180).length).to.be.greaterThan(gaps.length / 2);
  });

  it('a refused key: a clear error with the key redacted; the end of the chat stops polling', async () => {
    const src = new YouTubeChat({ baseUrl: base, liveChatId: 'chat-1', apiKey: 'wrong-key-0123456789', backoff: { minMs: 50, maxMs: 100 } });
    const b = new ChatBridge(src, svc);
    bridges.push(b);
    b.start();
    const err = await waitFor(() => b.stats().lastError, 10_000, 20, 'the error');
    expect(err).to.match(/HTTP 403 .*check the YouTube API key/);
    expect(err).not.to.include('wrong-key-0123456789');
    await b.stop();

    yt.ended = true;
    const ok = new ChatBridge(new YouTubeChat({ baseUrl: base, liveChatId: 'chat-1', apiKey: KEY, minIntervalMs: 20 }), svc);
    bridges.push(ok);
    ok.start();
    await waitFor(() => ok.stats().lastError === 'the live chat has ended', 10_000, 20, 'the end');
    const n = yt.requests.length;
    await sleep(500);
    expect(yt.requests.length).to.equal(n);
  });
});
