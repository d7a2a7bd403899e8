// The Express app: JSON bodies (small), static pages, the routers, one error handler.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import { errorHandler, notFoundHandler } from './errors.js';
import { accessLog } from './metrics/access-log.js';

export const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'public');

export function createApp(routers: Router[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(accessLog());
  app.use(express.json({ limit: '16kb' }));
  for (const r of routers) app.use(r);
  app.use(express.static(PUBLIC_DIR, { extensions: ['html'] }));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
