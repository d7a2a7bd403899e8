// The Express app: JSON bodies (small), static pages, the routers, one error handler.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, type Router } from 'express';
import { errorHandler, notFoundHandler } from './errors.js';
import { accessLog } from './metrics/access-log.js';

export const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'public');

export interface AppOptions {
  /** Express `trust proxy` (TRUST_PROXY): who may say, in X-Forwarded-For, who the client is. */
  trustProxy?: boolean | ((addr: string, hop: number) => boolean);
  /** Run before the body is parsed (src/security: headers, Origin/Content-Type, budgets). */
  before?: RequestHandler[];
}

export function createApp(routers: Router[], opts: AppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy ?? false);
  // First, so refused requests (403, 415, 429) are logged too.
  app.use(accessLog());
  for (const m of opts.before ?? []) app.use(m);
  app.use(express.json({ limit: '16kb' }));
  for (const r of routers) app.use(r);
  app.use(express.static(PUBLIC_DIR, { extensions: ['html'] }));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
