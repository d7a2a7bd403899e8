import { expect } from 'chai';
import { ThreadedPipeline } from '../src/render/threaded-pipeline.js';
import { closeRenderThreadPool, endRenderThread, renderThreadLoad, warmRenderThreads } from '../src/render/thread-pool.js';

// Render threads (issue 14): booted ahead of need, a stream takes a warm thread and hands it its
// init by message; threads are shared by streams up to a limit, one stream failing or stopping
// leaves the others on its thread running.
describe('render thread pool', function () {
  this.timeout(60_000);
  after(() => closeRenderThreadPool());

  function open(streamKey: string, screenId = 'testcard') {
    const seen = { previews: 0, lost: '' };
    const pipeline = new ThreadedPipeline({
      streamKey,
      screenId,
      startedMs: Date.now(),
      preview: { fps: 20, quality: 70, width: 320, height: 180 },
      broadcast: null,
      onPreview: (jpeg) => {
        expect(jpeg.subarray(0, 2).toString('hex')).to.equal('ffd8');
        seen.previews += 1;
      },
      onFailed: (m) => {
        throw new Error(m);
      },
      onLost: (reason) => (seen.lost = reason),
    });
    return { pipeline, seen };
  }

  async function previewsGrow(seen: { previews: number }, by = 3): Promise<void> {
    const target = seen.previews + by;
    const deadline = Date.now() + 30_000;
    while (seen.previews < target) {
      expect(Date.now(), 'previews from the stream').to.be.lessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('streams share threads up to the limit; one that cannot start or stops leaves the others running', async () => {
    warmRenderThreads(0, [], 1);
    const a = open('share-a');
    const b = open('share-b', 'poll');
    await Promise.all([a.pipeline.start(), b.pipeline.start()]);
    expect(a.pipeline.threadId).to.equal(b.pipeline.threadId);
    expect(renderThreadLoad()).to.deep.equal([2]);
    // A scene that does not exist: that stream fails alone.
    const bad = open('share-bad', 'no-such-scene');
    let error = '';
    await bad.pipeline.start().catch((e: Error) => (error = e.message));
    expect(error).to.match(/unknown screenId/);
    await bad.pipeline.stop();
    expect(renderThreadLoad()).to.deep.equal([2]);
    await Promise.all([previewsGrow(a.seen), previewsGrow(b.seen)]);
    await a.pipeline.stop();
    expect(renderThreadLoad()).to.deep.equal([1]);
    await previewsGrow(b.seen);
    await b.pipeline.stop();
    // No stream and nothing kept warm: the thread ends.
    expect(renderThreadLoad()).to.deep.equal([]);
    // Two threads allowed: two streams get one each.
    warmRenderThreads(0, [], 2);
    const c = open('share-c');
    const d = open('share-d');
    await Promise.all([c.pipeline.start(), d.pipeline.start()]);
    expect(c.pipeline.threadId).to.not.equal(d.pipeline.threadId);
    await Promise.all([previewsGrow(c.seen), previewsGrow(d.seen)]);
    await Promise.all([c.pipeline.stop(), d.pipeline.stop()]);
    warmRenderThreads(0);
  });

  it('a thread that crashes under two streams: each is told it was lost (not failed), and the next stream gets a new thread', async () => {
    warmRenderThreads(0, [], 1);
    const a = open('lost-a');
    const b = open('lost-b');
    await Promise.all([a.pipeline.start(), b.pipeline.start()]);
    await endRenderThread(a.pipeline.threadId!);
    const deadline = Date.now() + 10_000;
    while (!a.seen.lost || !b.seen.lost) {
      expect(Date.now(), 'both streams told').to.be.lessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(a.seen.lost).to.match(/render thread exited/);
    // Their stop resolves at once: nothing is left to stop.
    await Promise.all([a.pipeline.stop(), b.pipeline.stop()]);
    expect(renderThreadLoad()).to.deep.equal([]);
    const c = open('lost-c');
    await c.pipeline.start();
    await previewsGrow(c.seen);
    expect(c.pipeline.threadId).to.not.equal(a.pipeline.threadId);
    await c.pipeline.stop();
    warmRenderThreads(0);
  });

  async function runOne(streamKey: string, screenId = 'testcard'): Promise<number> {
    const { pipeline, seen } = open(streamKey, screenId);
    try {
      await pipeline.start();
      await previewsGrow(seen);
    } finally {
      await pipeline.stop();
    }
    expect(pipeline.stats().frames).to.be.greaterThan(0);
    return seen.previews;
  }

  it('streams run on warm threads one after the other, and without a pool on threads of their own', async () => {
    warmRenderThreads(1);
    // Taken at once (the thread may still be booting: its init waits in its queue).
    expect(await runOne('pool-a')).to.be.at.least(3);
    // The replacement booted behind the first.
    expect(await runOne('pool-b')).to.be.at.least(3);
    await closeRenderThreadPool();
    expect(await runOne('pool-none')).to.be.at.least(3);
  });

  it('a thread warmed at the stream sizes (every scene drawn once, a first JPEG) serves any scene', async () => {
    warmRenderThreads(1, [[640, 360], [320, 180]]);
    // Let it boot and warm up before the stream takes it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await runOne('pool-warm-poll', 'poll')).to.be.at.least(3);
    expect(await runOne('pool-warm-timecode', 'timecode')).to.be.at.least(3);
    await closeRenderThreadPool();
  });
});
