// A destination no retry can fix ends as `failed` with the reason (issue 9); a temporary outage is
// retried for as long as the stream runs. Real FFmpeg (encoder + copy outputs), real RTMP server.
import { expect } from 'chai';
import net from 'node:net';
import { createRequire } from 'node:module';
import { BroadcastOutput } from '../src/render/ffmpeg/broadcast-output.js';
import { startRtmpServer, type RtmpServerHandle } from '../src/render/rtmp-server.js';
import type { OutputHealth } from '../src/render/ffmpeg/copy-output.js';
import { waitFor } from './helpers/env.js';

const W = 320;
const H = 180;
const FPS = 15;
const KEY = 'sfFailKey_7c1d';

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('destinations that no retry can fix', function () {
  this.timeout(90_000);
  let server: RtmpServerHandle | undefined;
  let b: BroadcastOutput | undefined;
  let timer: NodeJS.Timeout | undefined;

  function start(urls: string[]): BroadcastOutput {
    b = new BroadcastOutput({
      ffmpegPath: 'ffmpeg',
      settings: { width: W, height: H, fps: FPS, videoBitrate: '300k', audioBitrate: '64k' },
      streamKey: KEY,
      maxFailures: 10,
      stallSeconds: 10,
      // Fast retries; a refusal counts as failed after 3 in a row over 2 s (defaults: 6 over 60 s).
      retry: { initialMs: 100, maxMs: 300, refused: { limit: 3, forMs: 2000 } },
      destinations: urls.map((url, i) => ({ id: `d${i + 1}`, url })),
      hlsDir: null,
    });
    b.start();
    const frame = Buffer.alloc(W * H * 4, 90);
    timer = setInterval(() => b!.writeFrame(frame), 1000 / FPS);
    return b;
  }
  const dest = (id: string) => b!.status().destinations.find((d) => d.id === id)!;
  const waitDest = (id: string, h: OutputHealth, ms = 45_000) => waitFor(() => dest(id).health === h, ms, 50, `destination ${id} ${h}`);

  afterEach(async () => {
    clearInterval(timer);
    await b?.stop(2000);
    await server?.close();
    [b, server] = [undefined, undefined];
  });

  it('an URL FFmpeg rejects (port out of range) fails at once with the reason; the other destination stays live', async () => {
    server = await startRtmpServer({ port: 0, host: '127.0.0.1' });
    start([`rtmp://127.0.0.1:${server.port}/live/${KEY}`, 'rtmp://127.0.0.1:99999/live/badPortKey_123']);
    await waitDest('d2', 'failed');
    expect(dest('d2').lastError).to.match(/^invalid destination URL/).and.not.include('badPortKey_123');
    expect(dest('d2').restarts).to.equal(0);
    await waitDest('d1', 'live');
  });

  it('a server that refuses every publish (wrong key) ends the destination as failed, with why', async () => {
    server = await startRtmpServer({ port: 0, host: '127.0.0.1' });
    // node-media-server's publish authentication: an unsigned publish is dropped at once.
    const context = createRequire(import.meta.url)('node-media-server/src/core/context.js');
    context.config.auth = { publish: true, secret: 'test-secret' };
    try {
      start([`rtmp://127.0.0.1:${server.port}/live/${KEY}`]);
      await waitDest('d1', 'failed');
      expect(dest('d1').lastError).to.match(/refused every attempt \(\d+ in a row/);
      expect(dest('d1').restarts).to.be.at.least(2);
    } finally {
      delete context.config.auth;
    }
  });

  it('a server that is down is an outage: retried, never failed', async () => {
    const port = await closedPort();
    start([`rtmp://127.0.0.1:${port}/live/${KEY}`]);
    // Well past the refusal limits (3 in a row, 2 s): connection refused is not a refusal.
    await waitFor(() => dest('d1').restarts >= 6, 60_000, 50, '6 attempts');
    expect(dest('d1').health).to.equal('reconnecting');
    expect(dest('d1').lastError).to.match(/Connection refused/);
  });
});
