// One stream's render pipeline: scene → canvas → (raw frames → broadcast sink) and
// (scaled copy → JPEG once → preview publisher). Pure wiring of the pieces; owns no I/O of its own.
import { createCanvas, type Canvas } from '@napi-rs/canvas';
import type { Scene, SceneState } from './scene.js';
import { RenderLoop } from './loop.js';
import { registerFonts } from './fonts.js';
import { log, errMessage } from '../logger.js';

const logger = log('RENDER');

/** Where raw RGBA broadcast frames go (the FFmpeg supervisor). false = not taken (dropped). */
export interface FrameSink {
  /** `renderedAt`: performance.now() when the frame's render began (for the encode latency). */
  writeFrame(rgba: Buffer, renderedAt?: number): boolean;
}

export interface PipelineOptions {
  streamKey: string;
  scene: Scene<any, any>;
  startedMs: number;
  preview: { fps: number; quality: number; width: number; height: number };
  broadcast?: { fps: number; width: number; height: number; sink: FrameSink };
  /** Receives each encoded preview JPEG with its sequence number and capture time. */
  onPreview: (jpeg: Buffer, seq: number, ts: number) => void;
  /** Called after each rendered frame (the render thread frees the frame's memory there). */
  afterFrame?: () => void;
}

/** What shed load sets (issue 13): frames rendered per second, previews per second, the scene's optional effects. */
export interface RenderRates {
  renderFps: number;
  previewFps: number;
  /** Absent: unchanged. */
  effects?: boolean;
}

export interface PipelineStats {
  frames: number;
  dropped: number;
  previewFrames: number;
  previewSkipped: number;
}

export class RenderPipeline {
  private readonly loop: RenderLoop;
  /** The scene's per-stream state, when it shows live data. */
  private readonly sceneState: SceneState<unknown, unknown> | undefined;
  private readonly main: Canvas;
  private readonly preview: Canvas | null;
  private previewPeriodMs: number;
  /** Frames rendered per second (issue 13's shed load); the other ticks send the last frame again. */
  private renderFps = 0;
  private lastFrame: Buffer | null = null;
  private effects = true;
  private nextPreviewMs = 0;
  private encoding = false;
  private frames = 0;
  private sinkDropped = 0;
  private previewSeq = 0;
  private previewSkipped = 0;
  private stopped = false;

  constructor(private readonly o: PipelineOptions) {
    registerFonts();
    this.sceneState = o.scene.state?.();
    const b = o.broadcast;
    this.main = b ? createCanvas(b.width, b.height) : createCanvas(o.preview.width, o.preview.height);
    this.preview = b ? createCanvas(o.preview.width, o.preview.height) : null;
    this.previewPeriodMs = 1000 / o.preview.fps;
    this.loop = new RenderLoop(b ? b.fps : o.preview.fps, (t) => this.tick(t.frame, t.dueMs));
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.stopped = true;
    this.loop.stop();
  }

  /**
   * Shed load (issue 13): render `renderFps` frames a second and send the last one again on the
   * other ticks, so the broadcast keeps its declared rate; previews at `previewFps` (0: none); the
   * scene draws its optional effects or not.
   */
  setRates(r: RenderRates): void {
    this.renderFps = r.renderFps >= this.loop.fps ? 0 : Math.max(1, r.renderFps);
    // previewFps 0: none (issue 14, nobody watches). A faster rate (a viewer came) starts at the next frame, not after the slow period.
    const period = r.previewFps > 0 ? 1000 / r.previewFps : Infinity;
    if (period < this.previewPeriodMs) this.nextPreviewMs = 0;
    this.previewPeriodMs = period;
    if (r.effects !== undefined) this.effects = r.effects;
  }

  /** Data for the scene, handed in from outside (whenever it changes; the latest wins). */
  setSceneData(data: unknown): void {
    this.sceneState?.set(data);
  }

  stats(): PipelineStats {
    return {
      frames: this.frames,
      dropped: this.sinkDropped + this.loop.skipped,
      previewFrames: this.previewSeq,
      previewSkipped: this.previewSkipped,
    };
  }

  private tick(frame: number, dueMs: number): void {
    const o = this.o;
    // Without a broadcast every tick is a preview drawn straight into the canvas being
    // encoded: while an encode is in flight, leave that canvas alone.
    if (!o.broadcast && this.encoding) {
      this.previewSkipped += 1;
      return;
    }
    const renderedAt = performance.now();
    const r = this.renderFps;
    if (o.broadcast && r && this.lastFrame && Math.floor((frame * r) / this.loop.fps) === Math.floor(((frame - 1) * r) / this.loop.fps)) {
      this.frames += 1;
      if (!o.broadcast.sink.writeFrame(this.lastFrame, renderedAt)) this.sinkDropped += 1;
      return;
    }
    const ctx = this.main.getContext('2d');
    const info = {
      width: this.main.width,
      height: this.main.height,
      frame,
      timeMs: dueMs,
      startedMs: o.startedMs,
      streamKey: o.streamKey,
      fps: this.loop.fps,
      effects: this.effects,
    };
    try {
      o.scene.draw(ctx, info, this.sceneState?.frame(dueMs));
    } catch (err) {
      logger.error(`scene ${o.scene.id} failed to draw frame ${frame}: ${errMessage(err)}`);
      return;
    }
    this.frames += 1;
    if (o.broadcast) {
      const rgba = this.main.data();
      this.lastFrame = r ? rgba : null;
      if (!o.broadcast.sink.writeFrame(rgba, renderedAt)) this.sinkDropped += 1;
    }
    o.afterFrame?.();

    if (dueMs + 0.5 >= this.nextPreviewMs) {
      this.nextPreviewMs = Math.max(this.nextPreviewMs + this.previewPeriodMs, dueMs);
      this.emitPreview(dueMs);
    }
  }

  private emitPreview(ts: number): void {
    // One encode in flight at a time: a slow encode skips preview frames, never queues them.
    if (this.encoding) {
      this.previewSkipped += 1;
      return;
    }
    let source: Canvas = this.main;
    if (this.preview) {
      const pctx = this.preview.getContext('2d');
      pctx.drawImage(this.main, 0, 0, this.preview.width, this.preview.height);
      source = this.preview;
    }
    // The first preview is what a viewer waiting on a start sees: encoded here and now (~4 ms at
    // 640×360), not queued behind whatever libuv's pool is doing as the stream starts.
    if (this.previewSeq === 0 && !this.stopped) {
      try {
        this.o.onPreview(source.encodeSync('jpeg', this.o.preview.quality), this.previewSeq++, ts);
      } catch (err) {
        logger.warn(`preview encode failed: ${errMessage(err)}`);
      }
      return;
    }
    this.encoding = true;
    source
      .encode('jpeg', this.o.preview.quality)
      .then((jpeg) => {
        if (!this.stopped) this.o.onPreview(jpeg, this.previewSeq++, ts);
      })
      .catch((err) => logger.warn(`preview encode failed: ${errMessage(err)}`))
      .finally(() => {
        this.encoding = false;
      });
  }
}
