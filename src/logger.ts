// One winston logger; every line carries a category from a closed set (the Python prefixes where they existed).
import winston from 'winston';

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
  | 'APP';

const pretty = winston.format.printf(({ level, message, timestamp, category, ...meta }) => {
  const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
  return `${timestamp} ${level} [${category}] ${message}${rest}`;
});

const useJson = (process.env.LOG_FORMAT ?? (process.env.NODE_ENV === 'production' ? 'json' : 'pretty')) === 'json';

const root = winston.createLogger({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
  format: winston.format.combine(
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
