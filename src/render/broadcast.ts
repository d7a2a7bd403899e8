// Builds each stream's broadcast (one supervised FFmpeg) from the config, as plans a render
// thread runs. RTMP_URL unset or "off": previews only, no FFmpeg.
import fs from 'node:fs';
import type { Config } from '../config.js';
import type { BroadcastPlan } from './thread-protocol.js';
import { log } from '../logger.js';
import { parseRtmpUrls } from './ffmpeg/args.js';
import { resolveFfmpeg } from './ffmpeg/binary.js';

const logger = log('FFMPEG');

/** Plans a stream's broadcast (its FFmpeg runs in the stream's render thread); null: none. */
export interface BroadcastFactory {
  (streamKey: string, fps: number): BroadcastPlan | null;
}

export function broadcastEnabled(config: Pick<Config, 'RTMP_URL'>): boolean {
  return !!config.RTMP_URL && config.RTMP_URL.trim().toLowerCase() !== 'off';
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
  return (streamKey: string, fps: number): BroadcastPlan => ({
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
      outputs: parseRtmpUrls(bases, streamKey),
      audioFile: config.AUDIO_FILE,
      loudnessLufs: config.AUDIO_LOUDNESS_LUFS,
    },
  });
}
