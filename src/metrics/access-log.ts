// One HTTP access line per request (method, route, status, duration), category HTTP; the pollers
// (health checks, Prometheus) are left out so the log shows what people and clients did.
import type { RequestHandler } from 'express';
import { log } from '../logger.js';

const logger = log('HTTP');
const QUIET = new Set(['/api/health', '/health', '/metrics']);

export function accessLog(): RequestHandler {
  return (req, res, next) => {
    if (QUIET.has(req.path)) return next();
    const t = performance.now();
    let done = false;
    const line = () => {
      if (done) return;
      done = true;
      // The route pattern, not the URL: ids and query strings stay out (a stream key is a credential).
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : res.statusCode === 404 ? '(no route)' : '(static)';
      logger.info(`${req.method} ${route} ${res.statusCode}`, {
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: performance.now() - t,
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    };
    res.once('finish', line);
    res.once('close', line);
    next();
  };
}
