// FFmpeg alone, the limit our pipeline is measured against (issue 14): the broadcast's exact
// encoder arguments (buildEncoderArgs) with the raw stdin input swapped for a lavfi testsrc2.
import { buildEncoderArgs, type EncodeSettings } from '../../src/render/ffmpeg/args.js';

/**
 * The encoder's arguments as our pipeline runs them (`stdin`: raw frames on stdin) and as FFmpeg
 * alone (`reference`: `frames` frames of testsrc2, at real time with `realtime`), both writing
 * their MPEG-TS to `output` instead of stdout.
 */
export function encoderCommands(settings: EncodeSettings, frames: number, opts: { realtime?: boolean; output?: string } = {}): { stdin: string[]; reference: string[] } {
  const output = opts.output ?? '/dev/null';
  const stdin = buildEncoderArgs(settings).map((a) => (a === 'pipe:1' ? output : a));
  stdin.splice(stdin.indexOf(output), 0, '-y');
  const i = stdin.indexOf('rawvideo') - 1; // '-f' before 'rawvideo'
  const inputEnd = stdin.indexOf('pipe:0') + 1;
  const reference = [...stdin.slice(0, i), ...(opts.realtime ? ['-re'] : []), '-f', 'lavfi', '-i', `testsrc2=size=${settings.width}x${settings.height}:rate=${settings.fps}`, ...stdin.slice(inputEnd)];
  reference.splice(reference.indexOf(output) - 1, 0, '-frames:v', String(frames));
  return { stdin, reference };
}
