// The FFmpeg command lines of a broadcast, as pure functions (golden-tested in test/ffmpeg-args.test.ts):
// one encoder per stream writing MPEG-TS to its stdout, and one `-c copy` FFmpeg per output
// (an RTMP destination, or the local HLS writer) fed those bytes by the render thread.
import { redactKey } from '../../logger.js';
import { redactBase, withStreamKey } from '../rtmp-url.js';
import { i420Bytes } from '../yuv.js';

export interface EncodeSettings {
  width: number;
  height: number;
  fps: number;
  /** libx264 CBR target, e.g. '2500k'. */
  videoBitrate: string;
  /** AAC bitrate, e.g. '128k'. */
  audioBitrate: string;
  /**
   * The raw frames on stdin: canvas RGBA (FFmpeg converts them), or yuv420p when the render
   * thread converts them itself (src/render/yuv.ts, libyuv; issue 14). Absent: rgba.
   */
  inputPixFmt?: 'rgba' | 'yuv420p';
  /** Background audio looped into the AAC track (AUDIO_FILE); absent: silence. */
  audioFile?: string;
  /** Integrated loudness the audio file is normalised to (EBU R128 broadcast: -23 LUFS). */
  loudnessLufs?: number;
}

/** Bytes of one raw input frame on the encoder's stdin (the supervisor checks every frame against it). */
export function inputFrameBytes(s: Pick<EncodeSettings, 'width' | 'height' | 'inputPixFmt'>): number {
  return s.inputPixFmt === 'yuv420p' ? i420Bytes(s.width, s.height) : s.width * s.height * 4;
}

/** Single-pass loudnorm: the looped file lands at `lufs` integrated, true peak ≤ -2 dBTP. */
export function loudnormFilter(lufs = -23): string {
  return `loudnorm=I=${lufs}:TP=-2:LRA=7`;
}

/** Seconds between keyframes: what YouTube/Twitch ask for. */
export const KEYFRAME_SECONDS = 2;
/** RTMP socket I/O timeout: a destination that stops reading fails the write instead of hanging. */
export const RW_TIMEOUT_US = 10_000_000;
/** File descriptor FFmpeg writes `-progress` key=value lines to (the supervisors open it). */
export const PROGRESS_FD = 3;
/** HLS segment length: one GOP, so each segment starts at a keyframe. */
export const HLS_SEGMENT_SECONDS = KEYFRAME_SECONDS;
/** Segments kept in the playlist (and on disk: older ones are deleted). */
export const HLS_LIST_SIZE = 6;

const GLOBAL = ['-hide_banner', '-loglevel', 'warning', '-nostdin', '-nostats', '-progress', `pipe:${PROGRESS_FD}`];

/**
 * The one encode of a stream: raw RGBA (or I420) frames on stdin + a silent track → H.264 + AAC in
 * MPEG-TS on stdout. Without a global header libx264 repeats SPS/PPS before every keyframe and
 * the TS muxer writes PAT/PMT there, so a consumer can join at any keyframe.
 */
export function buildEncoderArgs(s: EncodeSettings): string[] {
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
    // Checked against the options string x264 writes into the stream (issue 14): with all of
    // these, trellis=0 subme=0 me=dia ref=1 bframes=0 rc_lookahead=0 mbtree=0 aq=0 sliced_threads=1,
    // i.e. ultrafast + zerolatency, plus cabac=1 and rc=cbr nal_hrd=cbr. The `x264_8_trellis_coefn`
    // profilers show is libx264's last exported symbol before ~220 KB of unexported assembly
    // (pixel/SAD/DCT): a symbolisation artefact, not trellis (it shows with CABAC off too).
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-threads', '2',
    // ultrafast turns CABAC off, which makes x264 signal Constrained Baseline whatever
    // -profile:v says; CABAC on is what makes the stream really Main.
    '-profile:v', 'main', '-coder', 'cabac', '-pix_fmt', 'yuv420p',
    '-b:v', s.videoBitrate, '-minrate', s.videoBitrate, '-maxrate', s.videoBitrate, '-bufsize', '1024k',
    // qpmin=16: on a scene this still (~1 % of the pixels change a frame) CBR otherwise spends its
    // bits refining P-frames down to QP ~7 (56 dB PSNR), and x264 pays ~35 % more CPU for it than
    // at QP 16 (keyframes ~46-47 dB against ~52: no difference to see side by side). The bits
    // left over go out as HRD filler, so the rate stays CBR; busy pictures sit above QP 16 anyway
    // (testsrc2: ~32). The floor needs a scene that really moves: with the poll's background
    // swaying (still for 2 s near its turning points) a floor of 14 froze the picture on air by
    // freezedetect's -60 dB; it drifts at a steady speed since (test/poll-broadcast.test.ts; issue 14).
    '-x264-params', 'nal-hrd=cbr:qpmin=16',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
  ];
  const audio = [...(s.audioFile ? ['-af', loudnormFilter(s.loudnessLufs)] : []), '-c:a', 'aac', '-b:a', s.audioBitrate, '-ar', '44100', '-ac', '2'];
  const common = [
    '-map', '0:v', '-map', '1:a',
    // The silent source never ends: stop when the frames on stdin do (graceful stop = end stdin).
    '-shortest',
  ];
  // Each packet leaves at once (not in 32 KB blocks), so the outputs lag the encoder by nothing;
  // no mux delay: each audio frame is its own PES at once (by default the muxer gathers ~0.2 s of
  // them, and every copy output then holds the video back to interleave it with that audio);
  // video PES with their length, so a reader passes a frame on when it is complete, not when the
  // next one starts (one frame later).
  const output = ['-f', 'mpegts', '-flush_packets', '1', '-muxdelay', '0', '-muxpreload', '0', '-omit_video_pes_length', '0', 'pipe:1'];
  return [...GLOBAL, ...input, ...video, ...audio, ...common, ...output];
}

/** Input side of every copy output: the encoder's MPEG-TS on stdin, from a keyframe. */
const COPY_INPUT = [
  // Not -fflags nobuffer: it drops the packets read while probing, so an output started with
  // the GOP's keyframe and then waited up to 2 s for the next one. Not -avioflags direct: the
  // TS demuxer reads ahead and seeks back at the start, which an unbuffered pipe cannot do.
  '-flags', 'low_delay',
  // The data starts at a keyframe with its headers. The TS demuxer probes for the whole
  // analyzeduration (stream time; new streams may appear), which an output starting with the
  // encoder waits out in real time: 0.5 s, enough now that the encoder sends audio at once
  // (-muxdelay 0; with the default 0.7 s mux delay, 1 s did not always find the audio).
  '-analyzeduration', '500000', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0', '-c', 'copy',
];

/** One RTMP destination: the encoded stream copied (no re-encode) to FLV over RTMP. */
export function buildDestinationArgs(url: string): string[] {
  return [...GLOBAL, ...COPY_INPUT, '-f', 'flv', '-flvflags', 'no_duration_filesize', '-flush_packets', '1', '-rw_timeout', String(RW_TIMEOUT_US), url];
}

/** The local HLS output: 2 s segments (one per keyframe), a rolling playlist, old segments deleted. */
export function buildHlsArgs(dir: string): string[] {
  return [
    ...GLOBAL, ...COPY_INPUT,
    '-f', 'hls', '-hls_time', String(HLS_SEGMENT_SECONDS), '-hls_list_size', String(HLS_LIST_SIZE),
    '-hls_flags', 'delete_segments+omit_endlist+temp_file',
    '-hls_segment_filename', `${dir}/seg%d.ts`,
    `${dir}/index.m3u8`,
  ];
}

/**
 * RTMP_URL is one or more base URLs (`rtmp://host:1935/live`), separated by commas or whitespace;
 * the stream key becomes the last path segment of each, before any query (`?user=u&pass=p`).
 */
export function parseRtmpUrls(value: string, streamKey: string): string[] {
  return value
    .split(/[\s,]+/)
    .filter((base) => base.length > 0)
    .map((base) => {
      if (!/^rtmps?:\/\/[^/]+/i.test(base)) throw new Error(`not an RTMP URL: ${redactBase(base)}`);
      return withStreamKey(base, streamKey);
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

/**
 * A destination URL with its secret parts hidden: the last path segment (the platform's stream
 * key) shortened as stream keys are, and any query (tokens) replaced by `?…`.
 */
export function redactUrl(url: string): string {
  const m = /^([a-z]+:\/\/[^/?#]*)(\/[^?#]*)?(\?[^#]*)?/i.exec(url);
  if (!m) return '…';
  const [, origin, path = '', query] = m;
  const cut = path.lastIndexOf('/');
  const last = path.slice(cut + 1);
  const host = origin.replace(/\/\/[^@/]*@/, '//…@'); // user:password@
  return `${host}${path.slice(0, cut + 1)}${last ? redactKey(last) : ''}${query ? '?…' : ''}`;
}

/** Hides a destination's secrets (its key, its query) wherever they appear in a text. */
export function redactSecretsOf(text: string, url: string): string {
  const m = /^[a-z]+:\/\/[^/?#]*(?:\/[^?#]*)?/i.exec(url);
  let out = text;
  const q = url.indexOf('?');
  if (q >= 0 && q < url.length - 1) out = out.split(url.slice(q + 1)).join('…');
  const last = m ? m[0].slice(m[0].lastIndexOf('/') + 1) : '';
  if (last.length >= 1) out = redact(out, last);
  return out;
}
