// One winston logger; every line carries a category from a closed set (the Python prefixes where they existed).
import winston from 'winston';
import { escapeLogText, redactBody, redactText } from './security/redact.js';

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
  | 'CHAT'
  | 'APP';

const pretty = winston.format.printf(({ level, message, timestamp, category, ...meta }) => {
  const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
  return `${timestamp} ${level} [${category}] ${message}${rest}`;
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

const useJson = (process.env.LOG_FORMAT ?? (process.env.NODE_ENV === 'production' ? 'json' : 'pretty')) === 'json';

const root = winston.createLogger({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
  format: winston.format.combine(
    redaction(),
    winston.format.timestamp(),
    useJson ? winston.format.json() : pretty,
  ),
  transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
});

export type Logger = Pick<winston.Logger, 'error' | 'warn' | 'info' | 'debug'>;

const children = new Map<Category, winston.Logger>();

export function log(category: Category): Logger {
  let child = children.get(category);
  if (!child) {
    child = root.child({ category });
    children.set(category, child);
  }
  return child;
}

/** Stream keys are credentials on platforms: never log one whole. */
export function redactKey(key: string): string {
  return key.length <= 4 ? '****' : `${key.slice(0, 4)}…(${key.length})`;
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
