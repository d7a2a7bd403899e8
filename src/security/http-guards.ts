// Express middleware in front of every router: who may drive the API (Origin, Content-Type),
// the control-call budget, the SSE caps, and key redaction of the open read endpoints.
import type { Request, RequestHandler, Response } from 'express';
import { AppError, unavailable } from '../errors.js';
import { log } from '../logger.js';
import type { Budgets } from './budgets.js';
import { LogOnce } from './budgets.js';
import { redactBody } from '../redact.js';
import { hasToken, isLoopback, originAllowed } from './trust.js';

const feedLog = log('STREAM-FEED');

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const API_PATH = /^\/(api|stream)(\/|$)/;

export interface GuardOptions {
  token: string | undefined;
  allowedOrigins: ReadonlySet<string>;
  budgets: Budgets;
  sseTotal: number;
}

const forbidden = (message: string) => new AppError(403, 'forbidden', message);

function hasBody(req: Request): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

/** JSON in UTF-8 only (what express.json reads); anything else is refused before parsing. */
export function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/**
 * Writes to /api and /stream: 403 for a browser Origin that is neither ours nor listed (a
 * page elsewhere cannot drive the API from its visitors' browsers), 415 for any body that is
 * not application/json (a "simple" cross-site request needs text/plain or a form type).
 */
export function requestGuard(o: GuardOptions): RequestHandler {
  return (req, _res, next) => {
    if (!WRITE.has(req.method) || !API_PATH.test(req.path)) return next();
    const origin = req.headers.origin;
    // req.host: the Host header, or X-Forwarded-Host from a trusted proxy (TRUST_PROXY).
    const host = req.host;
    if (!originAllowed(origin, host, o.allowedOrigins) || (origin === undefined && req.headers['sec-fetch-site'] === 'cross-site')) {
      return next(forbidden(`requests from the origin ${JSON.stringify(origin ?? 'cross-site')} may not drive this API; list it in ALLOWED_ORIGINS`));
    }
    const type = req.headers['content-type'];
    if ((type !== undefined || hasBody(req)) && !isJsonType(type)) {
      return next(new AppError(415, 'unsupported_media_type', 'send the body as Content-Type: application/json (UTF-8)'));
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (!['identity', 'gzip', 'deflate', 'br'].includes(encoding)) {
      return next(new AppError(415, 'unsupported_media_type', `Content-Encoding ${encoding} is not supported`));
    }
    next();
  };
}

/** Control calls (writes other than votes) spend the address's control budget; token holders do not. */
export function controlBudget(o: GuardOptions): RequestHandler {
  return (req, _res, next) => {
    if (!WRITE.has(req.method) || !API_PATH.test(req.path) || req.path === '/api/vote' || hasToken(req, o.token)) return next();
    o.budgets.take('control', req.ip ?? 'unknown').then(() => next(), next);
  };
}

/**
 * SSE feeds: at most `sseTotal` open on this node (each holds a descriptor: past the cap new
 * feeds get 503 + Retry-After and the open ones keep flowing) and LIMIT_SSE_PER_ADDRESS per
 * address across nodes (429).
 */
export function feedCaps(o: GuardOptions) {
  let open = 0;
  let full = false;
  const said = new LogOnce();
  const handler: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' || req.path !== '/stream/feed') return next();
    if (open >= o.sseTotal) {
      if (!full) feedLog.warn(`SSE cap reached: ${open} feeds open on this node (LIMIT_SSE_TOTAL=${o.sseTotal}); new feeds get 503 until some close`);
      full = true;
      return next(unavailable(`this server has its maximum of ${o.sseTotal} preview feeds open; try again shortly`, 10));
    }
    const address = req.ip ?? 'unknown';
    open++;
    let released = false;
    const release = (giveBack: boolean) => {
      if (released) return;
      released = true;
      open--;
      if (full && open < o.sseTotal * 0.9) {
        full = false;
        feedLog.info(`SSE feeds back under the cap (${open} open)`);
      }
      if (giveBack) void o.budgets.giveBack('sse', address);
    };
    res.on('close', () => release(true));
    o.budgets.take('sse', address).then(
      () => next(),
      (err) => {
        release(false);
        if (err instanceof AppError && err.status === 429 && said.shouldLog(address)) feedLog.warn(`feeds refused for ${address}: over its SSE budget`);
        next(err);
      },
    );
  };
  return { handler, open: () => open };
}

const OPEN_READS = /^\/(api\/stream(\/.*)?|health|api\/health|stream\/status)$/;

/**
 * Open read endpoints show keys redacted unless the caller holds the token; without
 * API_TOKEN (the laptop mode), this machine's own browser (loopback) sees them whole.
 * Keys are never sent to anyone else.
 */
export function redactOpenReads(o: GuardOptions): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' || !OPEN_READS.test(req.path)) return next();
    const whole = o.token ? hasToken(req, o.token) : isLoopback(req.socket.remoteAddress ?? '') && isLoopback(req.ip ?? '');
    if (!whole) {
      const json = res.json.bind(res) as (b: unknown) => Response;
      res.json = ((body: unknown) => json(redactBody(body))) as Response['json'];
    }
    next();
  };
}
