// Builds native/yuv (the libyuv RGBA → I420 addon, issue 14) with the node-gyp that npm ships,
// against the headers of the Node that runs this (no download: the build works offline).
// Optional by design: without libyuv-dev, a compiler or Python it says so in one line and the
// service feeds FFmpeg RGBA as before (src/render/yuv.ts). Skipped when the addon is newer
// than its sources.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SOURCES = ['yuv.cc', 'binding.gyp'];
export const ADDON = path.join('native', 'yuv', 'build', 'Release', 'yuv.node');

const mtime = (p) => {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
};

/** npm's own node-gyp: the one npm hands its scripts, else the one beside this Node's npm. */
function findNodeGyp() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.resolve(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && fs.existsSync(c));
}

/** Headers installed with this Node (Debian's nodejs, the official tarball): no download needed. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

/** The likeliest cause in node-gyp's output, as a few words. */
function why(output, status) {
  if (/libyuv\.h: No such file|cannot find -lyuv/.test(output)) return 'libyuv-dev is not installed (apt-get install libyuv-dev)';
  if (/not found: make|not found: (c\+\+|g\+\+)|No such file or directory: '?(c\+\+|g\+\+)|command not found/.test(output)) return 'no C++ compiler or make';
  if (/find Python|Could not find any Python/i.test(output)) return 'no Python for node-gyp';
  const err = output.split('\n').find((l) => /error/i.test(l) && !/gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l));
  return `node-gyp exited with ${status}${err ? `: ${err.trim().slice(0, 160)}` : ''}`;
}

/** Returns a one-line outcome; never throws (the addon is an optimisation). */
export function buildNative(root) {
  const dir = path.join(root, 'native', 'yuv');
  const addon = path.join(root, ADDON);
  if (mtime(addon) > Math.max(...SOURCES.map((s) => mtime(path.join(dir, s))))) return 'native/yuv up to date';
  const gyp = findNodeGyp();
  if (!gyp) return "native/yuv not built: npm's node-gyp not found; FFmpeg converts RGBA";
  const nodedir = nodeDir();
  const args = [gyp, 'rebuild', '--directory', dir, ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });
  if (r.status === 0 && fs.existsSync(addon)) return 'native/yuv built (libyuv RGBA → I420)';
  const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  return `native/yuv not built: ${why(output, r.status ?? r.signal)}; FFmpeg converts RGBA`;
}
