import { expect } from 'chai';
import { ThreadedPipeline } from '../src/render/threaded-pipeline.js';
import { closeRenderThreadPool, warmRenderThreads } from '../src/render/thread-pool.js';

// Render threads booted ahead of need (issue 14): a stream takes a warm thread, hands it its init
// by message, and runs exactly as on a thread of its own; a replacement boots behind it.
describe('render thread pool', function () {
  this.timeout(60_000);
  after(() => closeRenderThreadPool());

  async function runOne(streamKey: string, screenId = 'testcard'): Promise<number> {
    let previews = 0;
    const pipeline = new ThreadedPipeline({
      streamKey,
      screenId,
      startedMs: Date.now(),
      preview: { fps: 20, quality: 70, width: 320, height: 180 },
      broadcast: null,
      onPreview: (jpeg) => {
        expect(jpeg.subarray(0, 2).toString('hex')).to.equal('ffd8');
        previews += 1;
      },
      onFailed: (m) => {
        throw new Error(m);
      },
    });
    try {
      await pipeline.start();
      const deadline = Date.now() + 30_000;
      while (previews < 3) {
        expect(Date.now(), 'previews from the stream').to.be.lessThan(deadline);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await pipeline.stop();
    }
    expect(pipeline.stats().frames).to.be.greaterThan(0);
    return previews;
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
