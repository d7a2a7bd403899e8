// One winston logger; every line carries a category from a closed set (the Python prefixes where they existed).
// Production writes JSON lines (one object a line) that an operator can query by field; development
// writes one readable line. A call may pass fields: `logger.info('stopped', { stream, taskId, durationMs })`.
import winston from 'winston';
import { escapeLogText, redactBody, redactText } from './redact.js';

export type Category =
  | 'STREAM-API'
  | 'STREAMING-TASK'
  | 'STREAM-FEED'
  | 'RENDER'
  | 'FFMPEG'
  | 'RTMP'
  | 'REALTIME'
  | 'POLL'
  | 'DB'
  | 'QUEUE'
  | 'HTTP'
  | 'METRICS'
  | 'CHAT'
  | 'APP';

/**
 * Fields an operator filters on. `stream` is given as the raw stream key and is always written
 * redacted (a stream key is a credential); the others are written as given.
 */
export interface LogFields {
  stream?: string;
  taskId?: string;
  workerId?: string;
  durationMs?: number;
  [field: string]: unknown;
}

/** Stream keys are credentials on platforms: never log one whole. */
export function redactKey(key: string): string {
  return key.length <= 4 ? '****' : `${key.slice(0, 4)}…(${key.length})`;
}

// Redacts `stream` whatever the format; runs before both so neither can print a key whole.
const redactStream = winston.format((info) => {
  if (typeof info.stream === 'string') info.stream = redactKey(info.stream);
  if (typeof info.durationMs === 'number') info.durationMs = Math.round(info.durationMs * 10) / 10;
  return info;
});

/**
 * Every line passes here: stream keys redacted (JSON dumps, key=value, RTMP URLs), and the
 * message's control characters escaped so user text (a username, an option) cannot forge a line.
 */
const redaction = winston.format((info) => {
  if (typeof info.message === 'string') info.message = escapeLogText(redactText(info.message), 8000);
  for (const k of Object.keys(info)) {
    if (k === 'message' || k === 'level' || k === 'category' || k === 'timestamp' || k === 'stack') continue;
    info[k] = redactBody(info[k]);
  }
  if (typeof info.stack === 'string') info.stack = redactText(info.stack);
  return info;
});

const pretty = winston.format.printf(({ level, message, timestamp, category, ...meta }) => {
  const rest = Object.entries(meta)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${timestamp} ${level} [${category}] ${message}${rest ? ` ${rest}` : ''}`;
});

/** JSON in production (LOG_FORMAT overrides), one readable line elsewhere. */
export function useJsonLogs(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty')) === 'json';
}

/** The format of the root logger (exported so tests can check a line of each kind). */
export function logFormat(json: boolean): winston.Logform.Format {
  return winston.format.combine(redactStream(), redaction(), winston.format.timestamp(), json ? winston.format.json() : pretty);
}

const root = winston.createLogger({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
  format: logFormat(useJsonLogs()),
  transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
});

type LogMethod = (message: string, fields?: LogFields) => void;
export interface Logger {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
}

const children = new Map<Category, Logger>();

export function log(category: Category): Logger {
  let child = children.get(category);
  if (!child) {
    child = root.child({ category }) as unknown as Logger;
    children.set(category, child);
  }
  return child;
}

/** The root logger itself, for tests and tools that capture lines or change the level. */
export function rootLogger(): winston.Logger {
  return root;
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
