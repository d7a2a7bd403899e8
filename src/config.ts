// One place that reads process.env: parsed once with zod, every problem listed, typed result.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const HEX = /^#[0-9a-fA-F]{6}$/;
const colours = (def: string, min: number, max: number) =>
  z
    .string()
    .default(def)
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .refine((l) => l.length >= min && l.length <= max && l.every((c) => HEX.test(c)), `${min}-${max} colours like #e63946, comma-separated`);

/** Stream keys travel in URLs, Redis keys and RTMP paths: keep them to a safe alphabet. */
export const STREAM_KEY_RE = /^[A-Za-z0-9_-]{1,64}$/;

export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: int(3000, 0, 65535),
    // Unset: 127.0.0.1 without API_TOKEN (an open control API stays on this machine), else 0.0.0.0.
    HOST: z.string().optional(),
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    DATABASE_URL: z.string().optional(),
    DATA_DIR: z.string().default('./data'),
    RTMP_URL: z.string().optional(),
    RTMP_PORT: int(1935, 0, 65535),
    API_TOKEN: z.string().min(8, 'API_TOKEN must be at least 8 characters').optional(),
    VIDEO_BITRATE: z.string().regex(/^\d+k$/, 'VIDEO_BITRATE like 2500k').default('2500k'),
    AUDIO_BITRATE: z.string().regex(/^\d+k$/, 'AUDIO_BITRATE like 128k').default('128k'),
    WIDTH: int(1280, 16, 3840).refine((n) => n % 2 === 0, 'WIDTH must be even'),
    HEIGHT: int(720, 16, 2160).refine((n) => n % 2 === 0, 'HEIGHT must be even'),
    BROADCAST_FPS: int(30, 1, 60),
    PREVIEW_WIDTH: int(640, 16, 3840),
    PREVIEW_HEIGHT: int(360, 16, 2160),
    /** Preview rate of a stream nobody watches (no SSE or socket.io viewer on any web node); 0 = none. 1 keeps the feed's diagnostics answering within a second. */
    PREVIEW_IDLE_FPS: int(1, 0, 60),
    FFMPEG_PATH: z.string().optional(),
    /** auto: render threads convert RGBA → I420 with libyuv when native/yuv is built (issue 14); off: FFmpeg converts RGBA. */
    YUV_CONVERT: z.enum(['auto', 'off']).default('auto'),
    /** At most this many render threads per worker (streams share them); 0 = no limit, a thread per stream (issue 14). */
    RENDER_THREADS: int(0, 0, 256),
    /** Deprecated (issue 9): accepted and ignored; destination failures are retried while the stream is requested. */
    FFMPEG_MAX_FAILURES: int(5, 1, 1000),
    FFMPEG_STALL_SECONDS: int(10, 2, 600),
    /** Every stream also writes HLS (played by the dashboard); a stream can ask for it with `hls: true`. */
    HLS: bool.default(false),
    /** Where the worker writes HLS (`<HLS_DIR>/<streamKey>/index.m3u8`) and the web role reads it: shared by both. */
    HLS_DIR: z.string().default(path.join(os.tmpdir(), 'stream-fighter-hls')),
    DEFAULT_STREAM_KEY: z.string().regex(STREAM_KEY_RE).default('default'),
    DEFAULT_SCREEN: z.string().default('poll'),
    WORKER_CONCURRENCY: int(4, 1, 64),
    // --- issue 13: admission by measured capacity, even degradation (src/jobs/admission.ts; README "Capacity") ---
    /** measured: a worker claims a new stream only when its measured CPU headroom holds one; off: WORKER_CONCURRENCY alone. */
    ADMISSION: z.enum(['measured', 'off']).default('measured'),
    /** Share of the cores kept free by admission (0.15: 15 %). */
    ADMISSION_MARGIN: z.coerce.number().min(0).max(0.9).default(0.25),
    /** Cores one stream costs before the worker has measured its own (1280×720 30 fps on the 2-core reference machine: ~0.4). */
    ADMISSION_DEFAULT_STREAM_CPU: z.coerce.number().min(0.01).max(64).default(0.45),
    /** A fixed cost per stream in cores instead of the measured one (capacity planning, tests). */
    ADMISSION_STREAM_CPU: z.coerce.number().min(0.01).max(64).optional(),
    /** Shed load evenly (previews, then the scenes' optional effects, then equal broadcast render-rate steps) when a worker's streams drop frames. */
    SHED_LOAD: bool.default(true),
    /** Seconds without drops before a shed step is tried back when no idle CPU shows for it (doubled after a failed try). */
    SHED_PROBE_SECONDS: int(30, 1, 3600),
    /** A worker over its headroom (shedding, or overcommitted) this long hands its newest stream to a worker with room; at most one per period. 0: never. */
    REBALANCE_GRACE_SECONDS: int(30, 0, 3600),
    QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_:-]{1,32}$/).default('bq'),
    HEARTBEAT_TTL_SECONDS: int(10, 3, 300),
    /** A stream's lease (sf:lease:{key}): renewed every TTL/6; a dead worker's streams are taken over this long after its last renewal. */
    LEASE_TTL_MS: int(3000, 1000, 300_000),
    /** Seconds between passes of the reconciler (requested streams in PostgreSQL → Redis and workers). */
    RECONCILE_SECONDS: int(5, 1, 300),
    /** At start-up, resume the streams left requested by the previous run (false: forget them). */
    RESUME_ON_START: bool.default(true),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    EMBEDDED_REDIS: bool.optional(),
    EMBEDDED_REDIS_FALLBACK_PORT: int(6380, 1, 65535),
    EMBEDDED_DB: z.enum(['auto', 'postgres', 'pglite']).default('auto'),
    PG_BIN: z.string().optional(),
    OPENROUTER_API_KEY: z.string().optional(),
    OPENROUTER_MODEL: z.string().default('meta-llama/llama-3.3-70b-instruct'),
    OPENROUTER_BASE_URL: z.string().url().default('https://openrouter.ai/api/v1'),
    MAX_FRAME_BYTES: int(1_048_576, 1024, 64 * 1_048_576),
    // --- issue 10: safe in public (src/security/; README "Running in public") ---
    VOTER_SECRET: z.string().min(16, 'VOTER_SECRET must be at least 16 characters').optional(),
    TRUST_PROXY: z.string().regex(/^(true|false|\d{1,2}|[0-9A-Za-z.:/,\s]+)$/, 'TRUST_PROXY: true, false, a hop count, or addresses/CIDRs/loopback').default('false'),
    ALLOWED_ORIGINS: z.string().default(''),
    LIMIT_VOTES_PER_POLL: int(20, 1, 1_000_000_000),
    LIMIT_NEW_VOTERS_PER_HOUR: int(60, 1, 1_000_000_000),
    LIMIT_CONTROL_PER_MINUTE: int(60, 1, 1_000_000_000),
    LIMIT_SSE_PER_ADDRESS: int(20, 1, 1_000_000),
    LIMIT_SSE_TOTAL: int(500, 1, 1_000_000),
    LIMIT_SOCKETS_PER_MINUTE: int(120, 1, 1_000_000_000),
    // --- end issue 10 ---
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    METRICS_TOKEN: z.string().min(8, 'METRICS_TOKEN must be at least 8 characters').optional(),
    // The poll show (issue 11).
    POLL_DURATION_SECONDS: int(120, 0, 7 * 24 * 3600),
    REVEAL_SECONDS: int(8, 5, 600),
    PUBLIC_URL: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'PUBLIC_URL must be an http(s) URL')
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    BRAND_NAME: z.string().max(40).default('STREAM FIGHTER'),
    THEME_BACKGROUND: colours('#0b1020,#1c1330', 1, 2),
    THEME_ACCENT: colours('#e63946', 1, 1),
    THEME_OPTION_COLOURS: colours('#e63946,#3a86ff,#ffb703,#2ec4b6', 4, 4),
    LOGO_FILE: z.string().optional(),
    AUDIO_FILE: z.string().optional(),
    AUDIO_LOUDNESS_LUFS: z.coerce.number().min(-40).max(-10).default(-23),
    // --- issue 12: votes from the platform's chat (src/chat/; README "Chat votes") ---
    TWITCH_CHANNEL: z.string().regex(/^#?[A-Za-z0-9_]{1,25}$/, 'TWITCH_CHANNEL: a Twitch login name (letters, digits, _)').transform((c) => c.replace(/^#/, '').toLowerCase()).optional(),
    TWITCH_USERNAME: z.string().regex(/^[A-Za-z0-9_]{1,25}$/, 'TWITCH_USERNAME: a Twitch login name').transform((c) => c.toLowerCase()).optional(),
    TWITCH_OAUTH_TOKEN: z.string().min(8, 'TWITCH_OAUTH_TOKEN is too short').transform((t) => t.replace(/^oauth:/i, '')).optional(),
    TWITCH_IRC_URL: z.string().regex(/^wss?:\/\/\S+$/, 'TWITCH_IRC_URL: a ws:// or wss:// URL').default('wss://irc-ws.chat.twitch.tv:443'),
    CHAT_VOTE_BARE: bool.default(false),
    CHAT_ANNOUNCE: bool.default(false),
    CHAT_SAY_PER_30S: int(20, 1, 100),
    CHAT_LOCK_TTL_MS: int(15_000, 1000, 600_000),
  });

export type Config = Omit<z.infer<typeof envSchema>, 'HOST'> & { HOST: string };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Pure: parse an env-like object. Empty strings count as unset, as in a .env file. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  const problems = result.success ? [] : result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  // Checked apart from the schema so it is listed even when other fields are wrong too.
  if (cleaned.NODE_ENV === 'production' && !cleaned.API_TOKEN) {
    problems.push('API_TOKEN: API_TOKEN is required when NODE_ENV=production');
  }
  if (cleaned.TWITCH_OAUTH_TOKEN && !cleaned.TWITCH_USERNAME) problems.push('TWITCH_USERNAME: required with TWITCH_OAUTH_TOKEN (the account the token belongs to)');
  if (/^(true|1|yes)$/.test(cleaned.CHAT_ANNOUNCE ?? '') && !cleaned.TWITCH_OAUTH_TOKEN) problems.push('TWITCH_OAUTH_TOKEN: CHAT_ANNOUNCE needs an account to post with');
  if (problems.length || !result.success) throw new ConfigError(problems);
  return { ...result.data, HOST: result.data.HOST ?? (result.data.API_TOKEN ? '0.0.0.0' : '127.0.0.1') };
}

let cached: Config | undefined;

/** The process's config; on a bad environment prints every problem and exits 1. */
export function config(): Config {
  if (cached) return cached;
  try {
    cached = parseConfig(process.env);
    return cached;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Stream Fighter: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
