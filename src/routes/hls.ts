// The HLS output of streams, written by their workers under HLS_DIR (`<streamKey>/index.m3u8`,
// `seg<n>.ts`), served to the dashboard, and hls.js itself from node_modules (no CDN).
// The worker and the web read and write the same directory: one machine (`npm start`), or a
// volume both mount (docker-compose: the `hls` volume).
import { createRequire } from 'node:module';
import path from 'node:path';
import { Router } from 'express';
import { STREAM_KEY_RE } from '../config.js';
import { notFound } from '../errors.js';

const FILE_RE = /^(index\.m3u8|seg\d{1,9}\.ts)$/;

function hlsJsPath(): string | null {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve('hls.js/package.json')), 'dist', 'hls.min.js');
  } catch {
    return null;
  }
}

export function hlsRouter(d: { hlsDir: string }): Router {
  const r = Router();
  const hlsJs = hlsJsPath();

  r.get('/vendor/hls.min.js', (_req, res, next) => {
    if (!hlsJs) return next(notFound('hls.js is not installed (npm install hls.js)'));
    res.sendFile(hlsJs, { maxAge: '1d' }, (err) => err && next(notFound('hls.js is not installed')));
  });

  r.get('/hls/:streamKey/:file', (req, res, next) => {
    const { streamKey, file } = req.params;
    if (!STREAM_KEY_RE.test(streamKey) || !FILE_RE.test(file)) return next(notFound());
    const playlist = file.endsWith('.m3u8');
    res.sendFile(
      path.join(d.hlsDir, streamKey, file),
      {
        // The playlist changes every segment; a segment never changes.
        headers: {
          'Content-Type': playlist ? 'application/vnd.apple.mpegurl' : 'video/mp2t',
          'Cache-Control': playlist ? 'no-cache' : 'max-age=60',
        },
        dotfiles: 'deny',
      },
      (err) => err && !res.headersSent && next(notFound(`no HLS ${playlist ? 'playlist' : 'segment'} for this stream (is it running with HLS on?)`)),
    );
  });
  return r;
}
