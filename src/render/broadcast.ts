// Builds each stream's broadcast (one supervised encoder fanned out to its destinations, and HLS
// when asked) from the config, as plans a render thread runs. RTMP_URL unset or "off": previews
// only, no FFmpeg.
import fs from 'node:fs';
import type { Config } from '../config.js';
import type { BroadcastPlan } from './thread-protocol.js';
import { log } from '../logger.js';
import { parseRtmpUrls } from './ffmpeg/args.js';
import { resolveFfmpeg } from './ffmpeg/binary.js';
import type { Destination } from './ffmpeg/copy-output.js';
import { hlsDirFor } from './ffmpeg/fanout.js';
import { yuvPath } from './yuv.js';

const logger = log('FFMPEG');

export interface BroadcastRequest {
  /** The stream's own destinations; absent: RTMP_URL's bases with the stream key. */
  destinations?: Destination[];
  /** HLS for this stream (HLS=true turns it on for every stream). */
  hls?: boolean;
}

/** Plans a stream's broadcast (its FFmpeg runs in the stream's render thread); null: none. */
export interface BroadcastFactory {
  (streamKey: string, fps: number, req?: BroadcastRequest): BroadcastPlan | null;
}

export function broadcastEnabled(config: Pick<Config, 'RTMP_URL'>): boolean {
  return !!config.RTMP_URL && config.RTMP_URL.trim().toLowerCase() !== 'off';
}

/** RTMP_URL as destinations: each base + the stream key, with ids that stay the same on every worker. */
export function defaultDestinations(rtmpUrl: string, streamKey: string): Destination[] {
  return parseRtmpUrls(rtmpUrl, streamKey).map((url, i) => ({ id: `rtmp-${i + 1}`, url, name: `RTMP_URL #${i + 1}` }));
}

/** Resolves FFmpeg now, so a missing binary stops the worker at start-up with a clear error. */
export async function createBroadcastFactory(config: Config): Promise<BroadcastFactory | undefined> {
  if (!broadcastEnabled(config)) {
    logger.warn('RTMP_URL is unset or "off": streams render previews only (no FFmpeg, no RTMP)');
    return undefined;
  }
  const ffmpeg = await resolveFfmpeg(config.FFMPEG_PATH); // logs which binary it picked
  if (config.AUDIO_FILE && !fs.existsSync(config.AUDIO_FILE)) throw new Error(`AUDIO_FILE ${config.AUDIO_FILE} does not exist`);
  const bases = config.RTMP_URL!;
  // Decided once per worker (and logged once): every stream's render thread then converts alike.
  const yuv = yuvPath(config.YUV_CONVERT);
  logger.info(`frames to the encoder: ${yuv.describe}`);
  return (streamKey: string, fps: number, req: BroadcastRequest = {}): BroadcastPlan => ({
    ffmpegPath: ffmpeg.path,
    streamKey,
    maxFailures: config.FFMPEG_MAX_FAILURES,
    stallSeconds: config.FFMPEG_STALL_SECONDS,
    settings: {
      width: config.WIDTH,
      height: config.HEIGHT,
      fps,
      videoBitrate: config.VIDEO_BITRATE,
      audioBitrate: config.AUDIO_BITRATE,
      ...(yuv.addon ? { inputPixFmt: 'yuv420p' as const } : {}),
      audioFile: config.AUDIO_FILE,
      loudnessLufs: config.AUDIO_LOUDNESS_LUFS,
    },
    destinations: req.destinations ?? defaultDestinations(bases, streamKey),
    hlsDir: config.HLS || req.hls ? hlsDirFor(config.HLS_DIR, streamKey) : null,
  });
}
