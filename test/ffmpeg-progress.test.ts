import { expect } from 'chai';
import { ProgressParser, RateWindow, type ProgressBlock } from '../src/render/ffmpeg/progress.js';

// Two blocks as FFmpeg 5.1 writes them with `-progress pipe:3`.
const sample = [
  'frame=30', 'fps=29.97', 'stream_0_0_q=38.0', 'bitrate= 833.4kbits/s', 'total_size=104175', 'out_time_us=1000000',
  'out_time_ms=1000000', 'out_time=00:00:01.000000', 'dup_frames=0', 'drop_frames=0', 'speed=1.01x', 'progress=continue',
  'frame=60', 'fps=30.00', 'stream_0_0_q=38.0', 'bitrate=N/A', 'total_size=N/A', 'out_time_us=2000000',
  'out_time_ms=2000000', 'out_time=00:00:02.000000', 'dup_frames=0', 'drop_frames=0', 'speed=1x', 'progress=end',
].join('\n') + '\n';

describe('ProgressParser', () => {
  it('parses blocks however the stream is chunked', () => {
    for (const size of [1, 7, 64, sample.length]) {
      const blocks: ProgressBlock[] = [];
      const parser = new ProgressParser((b) => blocks.push(b));
      for (let i = 0; i < sample.length; i += size) parser.push(sample.slice(i, i + size));
      expect(blocks, `chunks of ${size}`).to.deep.equal([
        { frame: 30, fps: 29.97, totalSize: 104175, outTimeUs: 1_000_000, bitrateKbps: 833.4, end: false },
        { frame: 60, fps: 30, totalSize: undefined, outTimeUs: 2_000_000, bitrateKbps: undefined, end: true },
      ]);
    }
  });
});

describe('RateWindow', () => {
  const block = (frame: number, totalSize: number, outTimeUs: number): ProgressBlock => ({ frame, totalSize, outTimeUs, end: false });

  it('gives fps from wall time and bitrate from bytes over media time, within the window', () => {
    const w = new RateWindow(3000);
    expect(w.rates()).to.deep.equal({ fps: 0 });
    w.push(block(0, 0, 0), 0); // dropped from the window below
    w.push(block(30, 200_000, 1_000_000), 1000);
    w.push(block(90, 400_000, 3_000_000), 3000);
    w.push(block(150, 600_000, 5_000_000), 5000);
    expect(w.rates()).to.deep.equal({ fps: 30, bitrateKbps: 800 });
  });
});
