// Streams' render loops and their FFmpeg, in a thread of their own: scene → canvas → raw frames
// → the one encoder → MPEG-TS → every output (fanout.ts), and JPEG previews handed to the start
// job by transfer. The thread that owns the encoder feeds the outputs: no extra hop. The worker's
// event loop stays free for Redis. A thread may run several streams (thread-pool.ts: a thread
// each by default, shared under RENDER_THREADS): each stream is a `sid` in every message (issue 14).
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { createCanvas } from '@napi-rs/canvas';
import { getScene, sceneIds } from './scenes/index.js';
import { FONT_SANS, registerFonts } from './fonts.js';
import { RenderPipeline } from './pipeline.js';
import { BroadcastOutput } from './ffmpeg/broadcast-output.js';
import type { BroadcastStatus, FromThread, RenderThreadInit, ToStream, ToThread } from './thread-protocol.js';
import type { RenderThreadData } from './thread-pool.js';
import { errMessage, log, redactKey } from '../logger.js';

const logger = log('RENDER');

const port = parentPort!;
const post = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

// Every frame allocates a 3.6 MB pixel buffer (canvas.data()). Left to V8's own pace, they pile
// up and each new one gets fresh pages, which costs ~10 ms of page faults per frame on a VM. A
// young-generation GC after each frame frees the last one at once (~0.2 ms), so the next
// allocation reuses its memory: data() falls from ~11 ms to ~1.5 ms at 1280×720 (as long as the
// canvas library's allocator keeps it for the next frame: allocator.ts).
v8.setFlagsFromString('--expose-gc');
const minorGc = vm.runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void;

function detach(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return buf.buffer as ArrayBuffer;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
}

/**
 * A thread (thread-pool.ts) does the slow part of a start ahead of need: the fonts, the
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

/** The streams this thread runs, by sid: each one's handler of its messages. */
const streams = new Map<number, (m: ToStream) => void>();

function startStream(sid: number, init: RenderThreadInit): void {
  const scene = getScene(init.screenId);
  if (!scene) throw new Error(`unknown screenId "${init.screenId}"`);

  const sup = init.broadcast ? new BroadcastOutput(init.broadcast) : null;
  const broadcastStatus = (): BroadcastStatus | null => sup?.status() ?? null;
  sup?.encoder.once('failed', (ev) => post({ type: 'failed', sid, message: `FFmpeg failed ${init.broadcast!.maxFailures} times in a row: ${ev.lastError ?? 'no error output'}` }));

  const s = init.broadcast?.settings;
  const pipeline = new RenderPipeline({
    streamKey: init.streamKey,
    scene,
    startedMs: init.startedMs,
    preview: init.preview,
    broadcast: sup && s ? { fps: s.fps, width: s.width, height: s.height, sink: sup } : undefined,
    onPreview: (jpeg, seq, ts) => {
      const ab = detach(jpeg);
      post({ type: 'preview', sid, jpeg: ab, seq, ts }, [ab]);
    },
    afterFrame: () => minorGc({ type: 'minor' }),
  });

  if (init.sceneData !== undefined) pipeline.setSceneData(init.sceneData);

  const sendStats = () => post({ type: 'stats', sid, counters: pipeline.stats(), broadcast: broadcastStatus(), latencies: sup?.encoder.takeLatencies() });
  const statsTimer = setInterval(sendStats, 500);

  let stopping = false;
  streams.set(sid, async (m) => {
    if (m.type === 'scene-data') return pipeline.setSceneData(m.data);
    if (m.type === 'rates') return pipeline.setRates(m);
    if (m.type === 'destinations') {
      sup?.setDestinations(m.list);
      return sendStats();
    }
    if (m.type !== 'stop' || stopping) return;
    stopping = true;
    pipeline.stop();
    clearInterval(statsTimer);
    // The thread may be shared: whatever the stop throws must neither end it nor leave the stream on it.
    try {
      await sup?.stop(5000);
      sendStats();
    } catch (err) {
      logger.error(`stream ${redactKey(init.streamKey)}: its stop failed: ${errMessage(err)}`);
    } finally {
      streams.delete(sid);
      post({ type: 'stopped', sid });
    }
  });
  sup?.start();
  pipeline.start();
  post({ type: 'ready', sid });
}

warmUp((workerData as RenderThreadData).sizes ?? []);
// A stream's handler is in place as soon as its init has run (synchronously), before its next message.
port.on('message', (m: ToThread) => {
  if (m.type !== 'init') return streams.get(m.sid)?.(m);
  try {
    startStream(m.sid, m.init);
  } catch (err) {
    // This stream cannot start (an unknown scene, an FFmpeg that cannot spawn): the others go on.
    streams.delete(m.sid);
    post({ type: 'failed', sid: m.sid, message: err instanceof Error ? err.message : String(err), ended: true });
  }
});
