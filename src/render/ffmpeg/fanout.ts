// One encode, many outputs: the encoder's MPEG-TS goes through the GOP cache to every output
// (each RTMP destination, and HLS when on). Outputs come and go while the stream runs; adding,
// removing or losing one never touches the encoder or the others.
import path from 'node:path';
import { log, redactKey } from '../../logger.js';
import { CopyOutput, type Destination, type OutputStatus } from './copy-output.js';
import type { RetryOptions } from './retry.js';
import { TsGopCache } from './ts-gop.js';

export interface FanoutOptions {
  ffmpegPath: string;
  streamKey: string;
  stallSeconds: number;
  retry?: RetryOptions;
  /** Directory for this stream's HLS output; null: no HLS. */
  hlsDir: string | null;
}

/** Where a stream's HLS output goes under the HLS root (the web role serves the same path). */
export function hlsDirFor(root: string, streamKey: string): string {
  return path.join(root, streamKey);
}

export class Fanout {
  private readonly logger = log('FFMPEG');
  private readonly gop = new TsGopCache();
  private readonly outputs = new Map<string, CopyOutput>();
  private hls: CopyOutput | null = null;
  private readonly removing = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly o: FanoutOptions) {}

  start(destinations: Destination[]): void {
    if (this.o.hlsDir) {
      this.hls = this.make({ kind: 'hls', dir: this.o.hlsDir });
      this.hls.start();
    }
    this.setDestinations(destinations);
  }

  /** Bytes from the encoder, as they come. */
  write(chunk: Buffer): void {
    const packets = this.gop.push(chunk);
    if (!packets.length) return;
    for (const out of this.outputs.values()) out.write(packets);
    this.hls?.write(packets);
  }

  /** The encoder started a new run: its stream starts afresh, so every output rejoins at its first keyframe. */
  encoderRestarted(): void {
    this.gop.reset();
    for (const out of this.outputs.values()) out.rejoin();
    this.hls?.rejoin();
  }

  /** Makes the running destinations these (by id): new ones start, missing ones stop, the rest go on untouched. */
  setDestinations(list: Destination[]): void {
    if (this.stopped) return;
    const wanted = new Map(list.map((d) => [d.id, d]));
    for (const [id, out] of this.outputs) {
      if (wanted.has(id)) continue;
      this.outputs.delete(id);
      this.logger.info(`stream ${redactKey(this.o.streamKey)}: destination ${id} removed`);
      const p = out.stop().finally(() => this.removing.delete(p));
      this.removing.add(p);
    }
    for (const d of list) {
      if (this.outputs.has(d.id)) continue;
      const out = this.make({ kind: 'rtmp', dest: d });
      this.outputs.set(d.id, out);
      out.start();
    }
  }

  destinations(): OutputStatus[] {
    return [...this.outputs.values()].map((o) => o.status());
  }

  hlsStatus(): OutputStatus | null {
    return this.hls?.status() ?? null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.outputs.values(), ...(this.hls ? [this.hls] : [])].map((o) => o.stop());
    this.outputs.clear();
    await Promise.all([...all, ...this.removing]);
  }

  private make(target: ConstructorParameters<typeof CopyOutput>[0]): CopyOutput {
    return new CopyOutput(target, {
      ffmpegPath: this.o.ffmpegPath,
      streamKey: this.o.streamKey,
      stallSeconds: this.o.stallSeconds,
      retry: this.o.retry,
      snapshot: () => this.gop.snapshot(),
    });
  }
}
