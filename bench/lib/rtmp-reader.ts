// Reads an RTMP stream back with FFmpeg, as a player would: counts video frames (no decoding
// with `copy`), or decodes grayscale frames for the time code.
import { spawn, type ChildProcess } from 'node:child_process';

export interface FrameCounter {
  /** Frames received so far. */
  frames(): number;
  close(): void;
  child: ChildProcess;
}

export function countFrames(url: string): FrameCounter {
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-rw_timeout', '10000000', '-i', url, '-map', '0:v', '-c', 'copy', '-f', 'null', '-', '-progress', 'pipe:1', '-stats_period', '0.25'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let frames = 0;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('frame=')) frames = Number(line.slice(6));
    }
  });
  return { frames: () => frames, close: () => child.kill('SIGKILL'), child };
}

/** Decodes frames to grayscale and calls back with each frame and its arrival time. */
export function readGrayFrames(url: string, width: number, height: number, onFrame: (gray: Buffer, arrivedMs: number) => void): ChildProcess {
  const child = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-fflags', 'nobuffer', '-flags', 'low_delay', '-probesize', '32768', '-analyzeduration', '0',
      '-rw_timeout', '10000000', '-i', url, '-map', '0:v', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const size = width * height;
  let pending: Buffer[] = [];
  let have = 0;
  child.stdout!.on('data', (d: Buffer) => {
    pending.push(d);
    have += d.length;
    while (have >= size) {
      const all = Buffer.concat(pending);
      onFrame(all.subarray(0, size), Date.now());
      const rest = all.subarray(size);
      pending = rest.length ? [rest] : [];
      have = rest.length;
    }
  });
  return child;
}
