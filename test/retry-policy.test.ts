// The supervisor's retry policy, pure parts: backoff with jitter, what no retry can fix, what to probe.
import net from 'node:net';
import { expect } from 'chai';
import { backoffDelay, connectionFailed, probeTargets, reachable, unfixable, waitToRetry } from '../src/render/ffmpeg/retry-policy.js';
import { freePort } from '../src/embedded/redis.js';

describe('FFmpeg retry policy', () => {
  it('backs off from 1 s doubling to 30 s, with ±25 % jitter, never above the cap', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, 1000, 30_000, mid))).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(backoffDelay(1, 1000, 30_000, () => 0)).to.equal(750);
    expect(backoffDelay(1, 1000, 30_000, () => 0.999)).to.be.within(1249, 1250);
    expect(backoffDelay(10, 1000, 30_000, () => 0.999)).to.equal(30_000);
    const many = Array.from({ length: 50 }, () => backoffDelay(3));
    expect(new Set(many).size).to.be.above(1);
    for (const d of many) expect(d).to.be.within(3000, 5000);
  });

  it('says which errors no retry can fix, and why', () => {
    expect(unfixable('/x/ffmpeg: spawn /x/ffmpeg ENOENT', [], false)).to.equal('FFmpeg cannot be run: /x/ffmpeg: spawn /x/ffmpeg ENOENT');
    expect(unfixable(null, ['rtmpx://h/live/k: Protocol not found'], false)).to.match(/^FFmpeg refuses the output: .*Protocol not found/);
    expect(unfixable(null, ['[tcp] Port missing in uri', 'rtmp://h:99999/live/k: Invalid argument'], false)).to.match(/Invalid argument/);
    // The network's doing: retried.
    expect(unfixable(null, ['rtmp://h/live/k: Connection refused'], false)).to.equal(null);
    expect(unfixable(null, ['Failed to resolve hostname h: Name or service not known', 'rtmp://h/live/k: Input/output error'], false)).to.equal(null);
    // A run that went live had a good output: whatever ended it later is retried.
    expect(unfixable(null, ['av_interleaved_write_frame(): Invalid argument'], true)).to.equal(null);
  });

  it('tells a server that was unreachable from one that refused the stream', () => {
    expect(connectionFailed('FFmpeg exited with code 1\nrtmp://h/live/k: Connection refused')).to.equal(true);
    expect(connectionFailed('stalled: no progress for 10 s')).to.equal(false);
    expect(connectionFailed(null)).to.equal(false);
  });

  it('probes host:port of rtmp and rtmps destinations', () => {
    expect(probeTargets(['rtmp://a.example/live/k', 'rtmp://127.0.0.1:1936/live/k', 'rtmps://b.example/app/k', 'file:///tmp/x', 'nope'])).to.deep.equal([
      { host: 'a.example', port: 1935 },
      { host: '127.0.0.1', port: 1936 },
      { host: 'b.example', port: 443 },
    ]);
  });

  it('cuts the wait short when an unreachable destination answers again', async () => {
    const port = await freePort();
    const targets = [{ host: '127.0.0.1', port }];
    expect(await reachable(targets, 500)).to.equal(false);
    const t = Date.now();
    const waiting = waitToRetry(20_000, targets, () => false, { probeMs: 200 });
    await new Promise((r) => setTimeout(r, 500));
    const srv = net.createServer((s) => s.destroy()).listen(port, '127.0.0.1');
    try {
      expect(await waiting).to.equal('reachable');
      expect(Date.now() - t).to.be.below(3000);
      // Reachable all along (the server refuses the stream for another reason): the whole backoff.
      const t2 = Date.now();
      expect(await waitToRetry(700, targets, () => false, { probeMs: 200 })).to.equal('elapsed');
      expect(Date.now() - t2).to.be.at.least(650);
    } finally {
      srv.close();
    }
  });
});
