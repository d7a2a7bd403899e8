// /metrics over HTTP: a route for the web app, and a tiny server of its own for a worker
// (METRICS_PORT). Open by default, as Prometheus scrapers usually are; with METRICS_TOKEN it
// wants `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization: {credentials: …}`).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router, type Request, type Response } from 'express';
import { log, errMessage } from '../logger.js';
import { registry } from './registry.js';
import './instrument.js';

const logger = log('METRICS');

function authorized(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = Buffer.from(m?.[1]?.trim() ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** Writes the exposition (or 401) to a plain Node response; shared by both servers. */
async function answer(req: http.IncomingMessage, res: http.ServerResponse, token: string | undefined): Promise<void> {
  if (!authorized(req.headers.authorization, token)) {
    res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' });
    res.end(JSON.stringify({ error: 'unauthorized', message: 'missing or invalid bearer token (Authorization: Bearer <METRICS_TOKEN>)' }));
    return;
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
    res.end(body);
  } catch (err) {
    logger.error(`collecting metrics failed: ${errMessage(err)}`);
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end('collecting metrics failed\n');
  }
}

export function metricsRouter(token: string | undefined): Router {
  const r = Router();
  r.get('/metrics', (req: Request, res: Response) => answer(req, res, token));
  return r;
}

/** A worker's own /metrics server; resolves with its port and a close(). */
export async function startMetricsServer(port: number, host: string, token?: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') return void answer(req, res, token);
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'not_found', message: 'only GET /metrics here' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info(`worker metrics on http://${host === '0.0.0.0' ? 'localhost' : host}:${bound}/metrics`);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
