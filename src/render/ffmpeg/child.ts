// Process-level helpers of the FFmpeg supervisor (supervisor.ts): the children alive in this
// process, killed if it exits under them, and FFmpeg's stderr cut into lines.
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** Children alive in this process: killed synchronously if the process exits under them. */
export const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

export function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
}

/** Calls `onLine` for each line of a text stream (FFmpeg ends progress lines with \r), the last one too. */
export function readLines(stream: Readable, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split(/\r?\n|\r/);
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => partial && onLine(partial));
}
