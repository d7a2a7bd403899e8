// A stream's render loop and its FFmpeg, in a thread of their own: scene → canvas → raw frames
// → the one encoder → MPEG-TS → every output (fanout.ts), and JPEG previews handed to the start
// job by transfer. The thread that owns the encoder feeds the outputs: no extra hop. The worker's event
// loop stays free for Redis and the other streams, and each stream gets a core when there is one.
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { createCanvas } from '@napi-rs/canvas';
import { getScene, sceneIds } from './scenes/index.js';
import { FONT_SANS, registerFonts } from './fonts.js';
import { RenderPipeline } from './pipeline.js';
import { BroadcastOutput } from './ffmpeg/broadcast-output.js';
import type { BroadcastStatus, FromThread, RenderThreadInit, ToThread } from './thread-protocol.js';
import type { PooledThreadData } from './thread-pool.js';

const port = parentPort!;
const post = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

// Every frame allocates a 3.6 MB pixel buffer (canvas.data()). Left to V8's own pace, they pile
// up and glibc hands each new one fresh pages, which costs ~10 ms of page faults per frame on a
// VM. A young-generation GC after each frame frees the last one at once (~0.2 ms), so the next
// allocation reuses its memory: data() falls from ~11 ms to ~1.5 ms at 1280×720.
v8.setFlagsFromString('--expose-gc');
const minorGc = vm.runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void;

function detach(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return buf.buffer as ArrayBuffer;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
}

/**
 * A pooled thread (thread-pool.ts) does the slow part of a start ahead of need: the fonts, the
 * canvas library's first text, each scene's first frame at the sizes its streams draw (what a
 * scene caches per size, glyphs at the sizes it uses) and a first JPEG.
 */
function warmUp(sizes: Array<[number, number]>): void {
  registerFonts();
  const ctx = createCanvas(64, 64).getContext('2d');
  ctx.font = `bold 20px "${FONT_SANS}"`;
  ctx.fillText('0', 8, 32);
  for (const [width, height] of sizes) {
    const canvas = createCanvas(width, height);
    for (const id of sceneIds()) {
      const scene = getScene(id)!;
      const info = { width, height, frame: 0, timeMs: Date.now(), startedMs: Date.now(), streamKey: 'warm-up', fps: 30, effects: true };
      try {
        scene.draw(canvas.getContext('2d'), info, scene.state?.().frame(info.timeMs));
      } catch {
        /* a scene that cannot draw fails the stream that uses it, with its own message */
      }
    }
    // Previews are encoded off the thread (libuv's pool), and the first such encode is the slow one.
    canvas.encode('jpeg', 70).catch(() => {});
  }
}

function main(init: RenderThreadInit): void {
  const scene = getScene(init.screenId);
  if (!scene) throw new Error(`unknown screenId "${init.screenId}"`);

  const sup = init.broadcast ? new BroadcastOutput(init.broadcast) : null;
  const broadcastStatus = (): BroadcastStatus | null => sup?.status() ?? null;
  sup?.encoder.once('failed', (ev) => post({ type: 'failed', message: `FFmpeg failed ${init.broadcast!.maxFailures} times in a row: ${ev.lastError ?? 'no error output'}` }));

  const s = init.broadcast?.settings;
  const pipeline = new RenderPipeline({
    streamKey: init.streamKey,
    scene,
    startedMs: init.startedMs,
    preview: init.preview,
    broadcast: sup && s ? { fps: s.fps, width: s.width, height: s.height, sink: sup } : undefined,
    onPreview: (jpeg, seq, ts) => {
      const ab = detach(jpeg);
      post({ type: 'preview', jpeg: ab, seq, ts }, [ab]);
    },
    afterFrame: () => minorGc({ type: 'minor' }),
  });

  if (init.sceneData !== undefined) pipeline.setSceneData(init.sceneData);

  const sendStats = () => post({ type: 'stats', counters: pipeline.stats(), broadcast: broadcastStatus(), latencies: sup?.encoder.takeLatencies() });
  const statsTimer = setInterval(sendStats, 500);

  port.on('message', async (m: ToThread) => {
    if (m.type === 'scene-data') return pipeline.setSceneData(m.data);
    if (m.type === 'rates') return pipeline.setRates(m);
    if (m.type === 'destinations') {
      sup?.setDestinations(m.list);
      return sendStats();
    }
    if (m.type !== 'stop') return;
    pipeline.stop();
    clearInterval(statsTimer);
    await sup?.stop(5000);
    sendStats();
    post({ type: 'stopped' });
    port.close();
  });
  sup?.start();
  pipeline.start();
  post({ type: 'ready' });
}

function run(init: RenderThreadInit): void {
  try {
    main(init);
  } catch (err) {
    post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    port.close();
  }
}

if ((workerData as PooledThreadData).pooled) {
  // Booted ahead of need: the stream comes by message. Its handler runs main() synchronously,
  // so main's own listener is in place before the next message (scene data, stop) is emitted.
  warmUp((workerData as PooledThreadData).sizes ?? []);
  const onInit = (m: ToThread) => {
    if (m.type !== 'init') return;
    port.off('message', onInit);
    run(m.init);
  };
  port.on('message', onInit);
} else run(workerData as RenderThreadInit);
