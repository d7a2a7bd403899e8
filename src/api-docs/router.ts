// Serves the OpenAPI document and the page that lists it (public/api-docs.html, no CDN).
import path from 'node:path';
import { Router } from 'express';
import { PUBLIC_DIR } from '../app.js';
import { openApiDocument } from './spec.js';

export function apiDocsRouter(): Router {
  const r = Router();
  r.get('/api/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  r.get('/api/docs', (_req, res) => {
    res.sendFile(path.join(PUBLIC_DIR, 'api-docs.html'));
  });
  return r;
}
