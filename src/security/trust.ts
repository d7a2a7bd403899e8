// Who is trusted: a caller with the bearer token. Without API_TOKEN nobody is, except that
// open responses stay whole for this machine's own browser (the laptop mode; see redaction).
import crypto from 'node:crypto';
import type http from 'node:http';

export function bearerOf(header: string | undefined): string {
  return /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
}

export function tokenMatches(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || !given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** The request carries the configured bearer token. */
export function hasToken(req: http.IncomingMessage, token: string | undefined): boolean {
  return tokenMatches(token, bearerOf(req.headers.authorization));
}

export function isLoopback(addr: string): boolean {
  return addr === '::1' || addr.startsWith('127.') || addr === '::ffff:127.0.0.1';
}

/**
 * Origins allowed to drive the API from a browser: our own (the Host the request came to)
 * and ALLOWED_ORIGINS. No Origin header (curl, a server) is no browser: allowed, the token
 * decides. `null` (sandboxed frames, file://) is refused.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  if (allowed.has(origin) || allowed.has('*')) return true;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!host && u.host === host.toLowerCase();
  } catch {
    return false;
  }
}

export function parseOrigins(list: string): Set<string> {
  return new Set(
    list
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean),
  );
}
