// Bearer-token guard for control endpoints; open when no API_TOKEN is configured (laptop mode).
import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { unauthorized } from '../errors.js';

export function requireToken(token: string | undefined): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const expected = Buffer.from(token);
  return (req, _res, next) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    const given = Buffer.from(m?.[1]?.trim() ?? '');
    const ok = given.length === expected.length && crypto.timingSafeEqual(given, expected);
    next(ok ? undefined : unauthorized());
  };
}
