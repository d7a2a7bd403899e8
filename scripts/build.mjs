// `npm run build`: tsc → dist/, the Lua scripts beside the module that loads them, then the stamp
// that lets `npm start` (scripts/start.mjs) run dist/. Also run by postinstall with
// --if-possible: without TypeScript (npm install --omit=dev) or with a type error it says so and
// succeeds, and `npm start` runs the sources through tsx instead. First the optional libyuv
// addon (build-native.mjs): its failure is one line, never a failed build.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeStamp } from './dist-stamp.mjs';
import { buildNative } from './build-native.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ifPossible = process.argv.includes('--if-possible');
const started = Date.now();
process.stderr.write(`stream-fighter: ${buildNative(root)}\n`);

function giveUp(why, code) {
  if (!ifPossible) {
    process.stderr.write(`build failed: ${why}\n`);
    process.exit(code);
  }
  process.stderr.write(`stream-fighter: no build (${why}); \`npm start\` runs the sources through tsx\n`);
  process.exit(0);
}

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  giveUp('TypeScript is not installed', 1);
}
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) giveUp(`tsc exited with ${r.status ?? r.signal}`, r.status ?? 1);
// tsc copies only what it compiles: the Lua scripts loaded by src/redis/scripts.ts go beside the built module.
mkdirSync(path.join(root, 'dist/redis/lua'), { recursive: true });
cpSync(path.join(root, 'src/redis/lua'), path.join(root, 'dist/redis/lua'), { recursive: true, filter: (f) => !path.basename(f).includes('.') || f.endsWith('.lua') });
writeStamp(root, started);
