// FFmpeg processes started by this test process (in-process workers), told apart by their args.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export interface FfmpegProc {
  pid: number;
  args: string[];
}

export function ffmpegProcs(parent = process.pid): FfmpegProc[] {
  let pids: number[] = [];
  try {
    pids = execFileSync('pgrep', ['-P', String(parent), 'ffmpeg']).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.flatMap((pid) => {
    try {
      return [{ pid, args: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') }];
    } catch {
      return [];
    }
  });
}

/** The encoders (libx264 in their args): one per stream, whatever its destinations. */
export const encoders = (procs = ffmpegProcs()) => procs.filter((p) => p.args.includes('libx264'));
/** The `-c copy` outputs whose args name this text (a destination URL, a stream key). */
export const outputsFor = (text: string, procs = ffmpegProcs()) => procs.filter((p) => !p.args.includes('libx264') && p.args.some((a) => a.includes(text)));
