// Voter identities the server issues: `sf_voter=<id>.<hmac>`, an HMAC-SHA256-signed, httpOnly,
// SameSite=Lax cookie. A client cannot make up identities (each new one comes from us and is
// budgeted per address) nor forge another's. The key comes from VOTER_SECRET, else it is made
// once and kept in Redis (SET NX) so every web node signs and checks with the same key.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';

export const VOTER_COOKIE = 'sf_voter';
export const VOTER_COOKIE_MAX_AGE_S = 365 * 24 * 3600;

/** The key from config, else the shared one in Redis (created by whichever node starts first). */
export async function loadVoterSecret(redis: Redis, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  await redis.set(keys.voterSecret(), crypto.randomBytes(32).toString('hex'), 'NX');
  const secret = await redis.get(keys.voterSecret());
  if (!secret) throw new Error(`voter secret missing from Redis (${keys.voterSecret()})`);
  return secret;
}

/** 15 random bytes as base64url, cut from a pooled buffer (one CSPRNG call per 256 ids; each byte used once). */
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomId(): string {
  if (poolAt + 15 > pool.length) {
    pool = crypto.randomBytes(15 * 256);
    poolAt = 0;
  }
  poolAt += 15;
  return pool.toString('base64url', poolAt - 15, poolAt);
}

export class VoterIdentity {
  private readonly key: Buffer;
  private readonly verified = new Map<string, string>();

  constructor(secret: string) {
    this.key = Buffer.from(secret);
  }

  private sign(id: string): string {
    return crypto.createHmac('sha256', this.key).update(id).digest('base64url').slice(0, 27);
  }

  /** A new identity: its voter id (what polls count) and the cookie value that carries it. */
  mint(): { voterId: string; cookie: string } {
    const voterId = randomId();
    return { voterId, cookie: `${voterId}.${this.sign(voterId)}` };
  }

  /** The voter id of a well-signed cookie value, else null. */
  verify(value: string | undefined): string | null {
    if (!value || value.length > 100) return null;
    // A returning browser sends the same cookie with every vote: check its HMAC once. Only
    // good cookies are kept (forged ones cannot fill it); bounded, started afresh when full.
    const seen = this.verified.get(value);
    if (seen !== undefined) return seen;
    const id = this.check(value);
    if (id !== null) {
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(value, id);
    }
    return id;
  }

  private check(value: string): string | null {
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const want = Buffer.from(this.sign(id));
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id) || given.length !== want.length || !crypto.timingSafeEqual(given, want)) return null;
    return id;
  }

  /** The voter id in a Cookie header, if it carries a well-signed `sf_voter`. */
  fromCookieHeader(header: string | undefined): string | null {
    return this.verify(readCookie(header, VOTER_COOKIE));
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie header value for a new identity. */
export function voterSetCookie(cookie: string, secure: boolean): string {
  return `${VOTER_COOKIE}=${cookie}; Max-Age=${VOTER_COOKIE_MAX_AGE_S}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
