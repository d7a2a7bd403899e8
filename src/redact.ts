// Stream keys are credentials (whoever has one can push to the channel): these pure helpers
// keep them out of open responses and log lines. No imports, so the logger can use them.
import crypto from 'node:crypto';

/** A short, stable fingerprint of a key: the first 4 hex digits of its SHA-256. */
export function fingerprint(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 4);
}

/** What an open response shows instead of a key. */
export function redactedKey(key: string): string {
  return `[redacted #${fingerprint(key)}]`;
}

const KEY_FIELDS = new Set(['streamKey', 'stream_key', 'streamkey']);
// rtmp(s)://host[:port]/app/<key>[?…]: the last path segment is the key.
const RTMP_URL = /(rtmps?:\/\/[^\s"'/]+(?:\/[^\s"'/?]+)*?\/)([^\s"'/?]+)(?=[\s"'?]|$)/gi;
// Credentials an RTMP URL may carry: user:password@ and the query (MediaMTX's ?user=…&pass=…,
// platforms' tokens). Redacted before the key, whose pattern stops at the query.
const RTMP_USERINFO = /(rtmps?:\/\/)[^\s"'/?#@]+@/gi;
const RTMP_QUERY = /(rtmps?:\/\/[^\s"'?#]*\?)[^\s"'#]+/gi;
// "stream_key":"…" / "streamKey":"…" in JSON text, and stream_key=… in a query or key=value log.
const JSON_KEY = /("(?:stream_key|streamKey)"\s*:\s*")([^"\\]*)(")/g;
const PAIR_KEY = /\b((?:stream_key|streamKey)=)([^&\s"']+)/g;
// Chat tokens (issue 12): Twitch's `oauth:<token>` as IRC's PASS line and its users write it.
const OAUTH = /\b(oauth:)([A-Za-z0-9_-]{4,})/gi;

/** Redacts keys inside a piece of text (a log message, an error message). */
export function redactText(text: string): string {
  if (!/rtmp|stream_?key|oauth:/i.test(text)) return text;
  return text
    .replace(OAUTH, (_m, head: string) => `${head}[redacted]`)
    .replace(RTMP_USERINFO, (_m, scheme: string) => `${scheme}[redacted]@`)
    .replace(RTMP_QUERY, (_m, head: string) => `${head}[redacted]`)
    .replace(RTMP_URL, (_m, head: string, key: string) => `${head}${redactedKey(key)}`)
    .replace(JSON_KEY, (_m, a: string, key: string, b: string) => `${a}${key ? redactedKey(key) : ''}${b}`)
    .replace(PAIR_KEY, (_m, a: string, key: string) => `${a}${redactedKey(key)}`);
}

/** A copy of a JSON-able value with every stream-key field and every RTMP URL redacted. */
export function redactBody(value: unknown, depth = 0): unknown {
  if (depth > 12) return value;
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactBody(v, depth + 1));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = KEY_FIELDS.has(k) && typeof v === 'string' && v ? redactedKey(v) : redactBody(v, depth + 1);
    }
    return out;
  }
  return value;
}

/**
 * User text for a log line: control characters (newlines that would forge a line, ANSI
 * escapes) shown escaped, and bounded.
 */
export function escapeLogText(text: string, max = 2000): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return escaped.length > max ? `${escaped.slice(0, max)}…(${escaped.length} chars)` : escaped;
}
