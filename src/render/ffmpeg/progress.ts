// Parser for FFmpeg's `-progress` output: blocks of key=value lines, each ended by `progress=continue|end`.

export interface ProgressBlock {
  /** Frames encoded so far in this run. */
  frame: number;
  /** FFmpeg's own average fps since the run started. */
  fps?: number;
  /** Bytes muxed so far (absent with the tee muxer). */
  totalSize?: number;
  /** Output timestamp, microseconds. */
  outTimeUs?: number;
  /** FFmpeg's own average output bitrate since the run started, kbit/s. */
  bitrateKbps?: number;
  end: boolean;
}

const num = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : undefined;
};

/** Feed it chunks of the progress stream; it calls `onBlock` once per complete block. */
export class ProgressParser {
  private partial = '';
  private fields = new Map<string, string>();

  constructor(private readonly onBlock: (block: ProgressBlock) => void) {}

  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.trim();
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq);
      const value = line.slice(eq + 1).trim();
      if (key !== 'progress') {
        this.fields.set(key, value);
        continue;
      }
      const f = this.fields;
      this.fields = new Map();
      this.onBlock({
        frame: num(f.get('frame')) ?? 0,
        fps: num(f.get('fps')),
        totalSize: num(f.get('total_size')),
        outTimeUs: num(f.get('out_time_us')),
        bitrateKbps: num(f.get('bitrate')), // "833.4kbits/s" or "N/A"
        end: value === 'end',
      });
    }
  }
}

/** fps and bitrate over the last few seconds of progress blocks (FFmpeg's own are run averages). */
export class RateWindow {
  private samples: Array<{ t: number; block: ProgressBlock }> = [];

  constructor(private readonly windowMs = 3000) {}

  push(block: ProgressBlock, now = Date.now()): void {
    this.samples.push({ t: now, block });
    while (this.samples.length > 2 && now - this.samples[0].t > this.windowMs) this.samples.shift();
  }

  rates(): { fps: number; bitrateKbps?: number } {
    if (this.samples.length < 2) return { fps: 0 };
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const seconds = (last.t - first.t) / 1000;
    const fps = seconds > 0 ? (last.block.frame - first.block.frame) / seconds : 0;
    let bitrateKbps = last.block.bitrateKbps;
    const [a, b] = [first.block, last.block];
    if (a.totalSize !== undefined && b.totalSize !== undefined && a.outTimeUs !== undefined && b.outTimeUs !== undefined && b.outTimeUs > a.outTimeUs) {
      bitrateKbps = ((b.totalSize - a.totalSize) * 8) / ((b.outTimeUs - a.outTimeUs) / 1000);
    }
    return { fps: Math.round(fps * 10) / 10, ...(bitrateKbps !== undefined ? { bitrateKbps: Math.round(bitrateKbps) } : {}) };
  }
}
