// The HLS output of streams, written by their workers under HLS_DIR (`<streamKey>/index.m3u8`,
// `seg<n>.ts`), served to the dashboard, and hls.js itself from node_modules (no CDN).
// The worker and the web read and write the same directory: one machine (`npm start`), or a
// volume both mount (docker-compose: the `hls` volume).
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';
import { STREAM_KEY_RE } from '../config.js';
import { notFound } from '../errors.js';

const FILE_RE = /^(index\.m3u8|seg\d{1,9}\.ts)$/;

/** hls.js's dist folder (served as /vendor/hls/), or null when the package is not installed. */
function hlsJsDir(): string | null {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve('hls.js/package.json')), 'dist');
  } catch {
    return null;
  }
}

export function hlsRouter(d: { hlsDir: string }): Router {
  const r = Router();
  const hlsJs = hlsJsDir();
  if (hlsJs) r.use('/vendor/hls', express.static(hlsJs, { maxAge: '1d', index: false }));

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
