// Errors with a stable id, made by small factories and answered in one place.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { log, errMessage } from './logger.js';

export class AppError extends Error {
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
export const unavailable = (message: string) => new AppError(503, 'unavailable', message);

/** 400 from a zod error, naming each field. */
export function validation(err: ZodError): AppError {
  const details = err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
  const message = details.map((d) => `${d.field}: ${d.message}`).join('; ');
  return new AppError(400, 'validation_error', message, details);
}

const logger = log('APP');

/**
 * Redis or Postgres unreachable (ioredis fails commands fast; pg's connection ends; a health
 * check's bound passes): the caller should retry, so HTTP answers 503 and sockets `unavailable`
 * (src/realtime/handlers.ts).
 */
export function isDependencyDown(err: unknown): boolean {
  const msg = errMessage(err);
  return /ECONNREFUSED|Connection is closed|MaxRetriesPerRequest|ETIMEDOUT|ENOTFOUND|connection terminated|cannot reach|isn't writeable|no answer within/i.test(msg);
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let e: AppError;
  if (err instanceof AppError) e = err;
  else if (err instanceof ZodError) e = validation(err);
  else if (err?.type === 'entity.parse.failed') e = badRequest('request body is not valid JSON');
  else if (err?.type === 'entity.too.large') e = payloadTooLarge('request body too large');
  else if (isDependencyDown(err)) {
    logger.error(`${req.method} ${req.path}: dependency unavailable: ${errMessage(err)}`);
    e = unavailable('a backing service (Redis or the database) is unavailable; try again shortly');
  } else {
    logger.error(`${req.method} ${req.path}: unexpected error: ${errMessage(err)}`, { stack: err?.stack });
    e = new AppError(500, 'internal_error', 'internal error');
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(e.status).json({ error: e.id, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) });
};

export const notFoundHandler: RequestHandler = (req, _res, next) => next(notFound(`no route for ${req.method} ${req.path}`));
