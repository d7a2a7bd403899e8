// A stream's render loop in its own thread: scene → canvas → raw frames and JPEG previews, handed
// to the start job by transfer. Rendering (rasterising a 720p frame costs milliseconds) then never
// blocks the worker's event loop, which stays free to feed FFmpeg's stdin and talk to Redis, and
// the streams of one worker use every core.
import { parentPort, workerData } from 'node:worker_threads';
import type { Redis } from 'ioredis';
import { createRedis } from '../redis.js';
import { getScene } from './scenes/index.js';
import { RenderPipeline } from './pipeline.js';
import type { SceneSource } from './scene.js';
import type { FromThread, RenderThreadInit, ToThread } from './thread-protocol.js';

const init = workerData as RenderThreadInit;
const port = parentPort!;
const post = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function detach(buf: Buffer): ArrayBuffer {
  // Hand over the whole ArrayBuffer when the Buffer is all of it; copy otherwise.
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return buf.buffer as ArrayBuffer;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
}

async function main(): Promise<void> {
  const scene = getScene(init.screenId);
  if (!scene) throw new Error(`unknown screenId "${init.screenId}"`);
  let redis: Redis | undefined;
  let subscriber: Redis | undefined;
  let source: SceneSource<unknown> | undefined;
  if (scene.source) {
    redis = createRedis(init.redisUrl, `render-${init.streamKey}`);
    subscriber = createRedis(init.redisUrl, `render-sub-${init.streamKey}`, { subscriber: true });
    source = await scene.source({ redis, subscriber });
  }

  let inFlight = 0;
  let notTaken = 0;
  const pipeline = new RenderPipeline({
    streamKey: init.streamKey,
    scene,
    source,
    startedMs: init.startedMs,
    preview: init.preview,
    broadcast: init.broadcast
      ? {
          ...init.broadcast,
          sink: {
            writeFrame(rgba) {
              // The owner is behind (busy feeding FFmpeg): drop here rather than queue.
              if (inFlight >= init.maxInFlight) {
                notTaken += 1;
                return false;
              }
              inFlight += 1;
              const ab = detach(rgba);
              post({ type: 'frame', rgba: ab }, [ab]);
              return true;
            },
          },
        }
      : undefined,
    onPreview: (jpeg, seq, ts) => {
      const ab = detach(jpeg);
      post({ type: 'preview', jpeg: ab, seq, ts }, [ab]);
    },
  });

  const sendStats = () => {
    const s = pipeline.stats();
    post({ type: 'stats', frames: s.frames, skipped: s.dropped - notTaken, notTaken, previewFrames: s.previewFrames, previewSkipped: s.previewSkipped });
  };
  const statsTimer = setInterval(sendStats, 500);

  port.on('message', async (m: ToThread) => {
    if (m.type === 'ack') inFlight = Math.max(0, inFlight - m.n);
    else if (m.type === 'stop') {
      pipeline.stop();
      clearInterval(statsTimer);
      sendStats();
      await source?.close().catch(() => {});
      redis?.disconnect();
      subscriber?.disconnect();
      port.close();
    }
  });
  pipeline.start();
  post({ type: 'ready' });
}

main().catch((err) => {
  post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  port.close();
});
