// The FFmpeg command line of a broadcast, as pure functions (golden-tested in test/ffmpeg-args.test.ts).
import { redactKey } from '../../logger.js';

export interface EncodeSettings {
  width: number;
  height: number;
  fps: number;
  /** libx264 CBR target, e.g. '2500k'. */
  videoBitrate: string;
  /** AAC bitrate, e.g. '128k'. */
  audioBitrate: string;
  /** Full RTMP URLs including the stream key; several → one encode, tee muxer. */
  outputs: string[];
  inputPixFmt?: 'rgba';
  /** Background audio looped into the AAC track (AUDIO_FILE); absent: silence. */
  audioFile?: string;
  /** Integrated loudness the audio file is normalised to (EBU R128 broadcast: -23 LUFS). */
  loudnessLufs?: number;
}

/** Single-pass loudnorm: the looped file lands at `lufs` integrated, true peak ≤ -2 dBTP. */
export function loudnormFilter(lufs = -23): string {
  return `loudnorm=I=${lufs}:TP=-2:LRA=7`;
}

/** Seconds between keyframes: what YouTube/Twitch ask for. */
export const KEYFRAME_SECONDS = 2;
/** RTMP socket I/O timeout: a destination that stops reading fails the write instead of hanging. */
export const RW_TIMEOUT_US = 10_000_000;
/** File descriptor FFmpeg writes `-progress` key=value lines to (the supervisor opens it). */
export const PROGRESS_FD = 3;

/**
 * Escapes a URL for a tee muxer slave: the list is split on `|` by av_get_token, which also
 * treats `\` and `'` as escapes and trims surrounding whitespace.
 */
export function escapeTeeUrl(url: string): string {
  return url.replace(/[\\'|]/g, (c) => `\\${c}`);
}

export function buildFfmpegArgs(s: EncodeSettings): string[] {
  if (s.outputs.length === 0) throw new Error('buildFfmpegArgs: at least one output URL is required');
  const gop = String(KEYFRAME_SECONDS * s.fps);
  const input = [
    // Raw frames from the render loop on stdin, paced by it (no -re).
    '-f', 'rawvideo', '-pix_fmt', s.inputPixFmt ?? 'rgba', '-s', `${s.width}x${s.height}`, '-r', String(s.fps),
    '-i', 'pipe:0',
    // Platforms reject streams without audio: the background file looped for ever, or silence.
    ...(s.audioFile
      ? ['-stream_loop', '-1', '-i', s.audioFile]
      : ['-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=44100']),
  ];
  const video = [
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-threads', '2',
    // ultrafast turns CABAC off, which makes x264 signal Constrained Baseline whatever
    // -profile:v says; CABAC on is what makes the stream really Main.
    '-profile:v', 'main', '-coder', 'cabac', '-pix_fmt', 'yuv420p',
    '-b:v', s.videoBitrate, '-minrate', s.videoBitrate, '-maxrate', s.videoBitrate, '-bufsize', '1024k',
    '-x264-params', 'nal-hrd=cbr',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
  ];
  const audio = [...(s.audioFile ? ['-af', loudnormFilter(s.loudnessLufs)] : []), '-c:a', 'aac', '-b:a', s.audioBitrate, '-ar', '44100', '-ac', '2'];
  const common = [
    '-map', '0:v', '-map', '1:a',
    // The silent source never ends: stop when the frames on stdin do (graceful stop = end stdin).
    '-shortest',
  ];
  const output =
    s.outputs.length === 1
      ? ['-f', 'flv', '-flvflags', 'no_duration_filesize', '-rw_timeout', String(RW_TIMEOUT_US), s.outputs[0]]
      : [
          // tee cannot tell the encoders that FLV wants SPS/PPS and AudioSpecificConfig out of band.
          '-flags', '+global_header',
          '-f', 'tee',
          s.outputs.map((url) => `[f=flv:onfail=ignore:flvflags=no_duration_filesize:rw_timeout=${RW_TIMEOUT_US}]${escapeTeeUrl(url)}`).join('|'),
        ];
  return [
    '-hide_banner', '-loglevel', 'warning', '-nostdin', '-nostats', '-progress', `pipe:${PROGRESS_FD}`,
    ...input, ...video, ...audio, ...common, ...output,
  ];
}

/**
 * RTMP_URL is one or more base URLs (`rtmp://host:1935/live`), separated by commas or whitespace;
 * the stream key becomes the last path segment of each.
 */
export function parseRtmpUrls(value: string, streamKey: string): string[] {
  return value
    .split(/[\s,]+/)
    .filter((base) => base.length > 0)
    .map((base) => {
      if (!/^rtmps?:\/\/[^/]+/i.test(base)) throw new Error(`not an RTMP URL: ${redact(base, streamKey)}`);
      return `${base.replace(/\/+$/, '')}/${streamKey}`;
    });
}

/**
 * Replaces the stream key (in stderr lines, URLs, errors) with its redacted form. Keys are made of
 * [A-Za-z0-9_-], so only whole runs of those characters match: a short key such as `x` must not
 * mangle "nonexistent".
 */
export function redact(text: string, streamKey: string): string {
  if (!streamKey) return text;
  if (!/^[A-Za-z0-9_-]+$/.test(streamKey)) return text.split(streamKey).join(redactKey(streamKey));
  return text.replace(new RegExp(`(?<![A-Za-z0-9_-])${streamKey}(?![A-Za-z0-9_-])`, 'g'), redactKey(streamKey));
}
