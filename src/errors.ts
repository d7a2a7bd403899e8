// Errors with a stable id, made by small factories and answered in one place.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { log, errMessage } from './logger.js';

export class AppError extends Error {
  /** Seconds for a Retry-After header (429, 503). */
  retryAfter?: number;

  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new AppError(400, 'bad_request', message, details);
export const unauthorized = () =>
  new AppError(401, 'unauthorized', 'missing or invalid bearer token (Authorization: Bearer <API_TOKEN>)');
export const notFound = (message = 'not found') => new AppError(404, 'not_found', message);
export const conflict = (message: string, details?: unknown) => new AppError(409, 'conflict', message, details);
export const payloadTooLarge = (message: string) => new AppError(413, 'payload_too_large', message);
export const unavailable = (message: string, retryAfterS = 5) => Object.assign(new AppError(503, 'unavailable', message), { retryAfter: retryAfterS });

/** 400 from a zod error, naming each field. */
export function validation(err: ZodError): AppError {
  const details = err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
  const message = details.map((d) => `${d.field}: ${d.message}`).join('; ');
  return new AppError(400, 'validation_error', message, details);
}

const logger = log('APP');

// PostgreSQL classes 08 (connection exception) and 57P01-57P03 (admin/crash shutdown, cannot
// connect now): the server dropped us, nothing was committed; and socket-level resets.
const DEPENDENCY_CODES = /^(08...|57P0[123]|ECONNRESET|EPIPE|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH)$/;

/**
 * Redis or Postgres unreachable (ioredis fails commands fast; pg's connection ends; a health
 * check's bound passes): the caller should retry, so HTTP answers 503 and sockets `unavailable`
 * (src/realtime/handlers.ts).
 */
export function isDependencyDown(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && DEPENDENCY_CODES.test(code)) return true;
  const msg = errMessage(err);
  return /ECONNREFUSED|Connection is closed|MaxRetriesPerRequest|ETIMEDOUT|ENOTFOUND|connection terminated|cannot reach|isn't writeable|no answer within/i.test(msg);
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let e: AppError;
  if (err instanceof AppError) e = err;
  else if (err instanceof ZodError) e = validation(err);
  else if (err?.type === 'entity.parse.failed') e = badRequest('request body is not valid JSON');
  else if (err?.type === 'entity.too.large') e = payloadTooLarge('request body too large');
  else if (isClientHttpError(err)) e = fromHttpError(err);
  else if (isDependencyDown(err)) {
    logger.error(`${req.method} ${req.path}: dependency unavailable: ${errMessage(err)}`);
    e = unavailable('a backing service (Redis or the database) is unavailable; try again shortly');
  } else {
    logger.error(`${req.method} ${req.path}: unexpected error: ${errMessage(err)}`, { stack: err?.stack });
    e = new AppError(500, 'internal_error', 'internal error');
  }
  if (e.retryAfter) res.setHeader('Retry-After', String(e.retryAfter));
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(e.status).json({ error: e.id, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) });
};

// Client errors raised by body-parser and the router (http-errors: an unsupported charset or
// Content-Encoding is 415, a body that does not inflate or a path that does not decode is 400).
function isClientHttpError(err: unknown): err is { status: number; message: string; expose?: boolean; type?: string } {
  const status = (err as { status?: unknown })?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function fromHttpError(err: { status: number; message: string; expose?: boolean; type?: string }): AppError {
  const ids: Record<number, string> = { 400: 'bad_request', 413: 'payload_too_large', 415: 'unsupported_media_type' };
  const message = err.expose === false ? 'bad request' : err.message;
  return new AppError(err.status, ids[err.status] ?? 'bad_request', message, err.type ? { type: err.type } : undefined);
}

export const notFoundHandler: RequestHandler = (req, _res, next) => next(notFound(`no route for ${req.method} ${req.path}`));
