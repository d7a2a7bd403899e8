// A stream's broadcast as one thing the render loop writes frames to: the encoder (one per
// stream, whatever the destinations) and the fan-out of its MPEG-TS to every output. A plan
// for yuv420p input gets the libyuv converter in front of the encoder (yuv.ts, issue 14).
import { log } from '../../logger.js';
import type { BroadcastPlan, BroadcastStatus } from '../thread-protocol.js';
import { createI420Converter } from '../yuv.js';
import type { Destination } from './copy-output.js';
import { Fanout } from './fanout.js';
import { FfmpegSupervisor } from './supervisor.js';

export class BroadcastOutput {
  readonly encoder: FfmpegSupervisor;
  readonly fanout: Fanout;

  constructor(private readonly plan: BroadcastPlan) {
    const s = plan.settings;
    const converter = s.inputPixFmt === 'yuv420p' ? createI420Converter('auto', s.width, s.height) : null;
    if (s.inputPixFmt === 'yuv420p' && !converter) {
      // The worker found the addon, so this thread should too; if not, FFmpeg converts as before.
      log('FFMPEG').warn('render thread could not load native/yuv: FFmpeg converts RGBA');
      this.encoder = new FfmpegSupervisor({ ...plan, settings: { ...s, inputPixFmt: 'rgba' } });
    } else this.encoder = new FfmpegSupervisor(plan, converter ?? undefined);
    this.fanout = new Fanout({ ffmpegPath: plan.ffmpegPath, streamKey: plan.streamKey, stallSeconds: plan.stallSeconds, retry: plan.retry, hlsDir: plan.hlsDir });
    let runs = 0;
    this.encoder.on('data', (chunk) => this.fanout.write(chunk));
    // Every run after the first is a new TS stream: the outputs rejoin at its first keyframe.
    this.encoder.on('run', () => runs++ > 0 && this.fanout.encoderRestarted());
  }

  start(): void {
    this.fanout.start(this.plan.destinations);
    this.encoder.start();
  }

  /** See FfmpegSupervisor.writeFrame: false = dropped, never queued. */
  writeFrame(rgba: Buffer, renderedAt?: number): boolean {
    return this.encoder.writeFrame(rgba, renderedAt);
  }

  setDestinations(list: Destination[]): void {
    this.fanout.setDestinations(list);
  }

  status(): BroadcastStatus {
    const s = this.encoder.stats();
    const destinations = this.fanout.destinations();
    return {
      health: s.health,
      restarts: s.restarts,
      lastError: s.lastError,
      fps: s.fps,
      bitrateKbps: s.bitrateKbps,
      restartReasons: s.restartReasons,
      pid: s.pid,
      destinations,
      // Every destination down: since the last of them went down (the stream is off air since then).
      downSince: destinations.length && destinations.every((d) => d.health !== 'live') ? Math.max(...destinations.map((d) => d.since)) * 1000 : null,
      hls: this.fanout.hlsStatus(),
    };
  }

  /** The encoder first (it flushes its last frames to the outputs), then every output. */
  async stop(timeoutMs = 5000): Promise<void> {
    await this.encoder.stop(timeoutMs);
    await this.fanout.stop();
  }
}
