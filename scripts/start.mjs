// `npm start`: the app (src/main.ts) in this very process, so Ctrl-C and SIGTERM reach it with
// no wrapper between. It runs the build in dist/ when that is the build of the current sources
// (scripts/dist-stamp.mjs; postinstall and `npm run build` make it): plain node loads it ~0.6 s
// faster than tsx compiles src/ (bench/footprint.ts). After an edit it runs the sources through
// tsx, as before, until the next `npm run build`.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { distIsFresh } from './dist-stamp.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (distIsFresh(root)) {
  await import(pathToFileURL(path.join(root, 'dist', 'main.js')).href);
} else {
  process.stderr.write('Stream Fighter: src/ is newer than the build in dist/, so it runs the sources through tsx (`npm run build` makes start-up ~0.6 s faster)\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(root, 'src', 'main.ts')).href);
}
