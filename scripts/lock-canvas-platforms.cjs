// Makes package-lock.json complete for `npm ci` on every platform: adds the lock entries of
// @napi-rs/canvas's per-platform binaries that npm left out (npm only writes entries it can
// resolve, and a registry mirror that lacks e.g. canvas-darwin-arm64@1.1.1 yields a lock that
// `npm ci` then refuses: "Missing: @napi-rs/canvas-darwin-arm64@ from lock file").
// Entries added here have no integrity: npm fetches them by version on that platform only.
// Run after changing @napi-rs/canvas: `node scripts/lock-canvas-platforms.cjs package-lock.json`.
const fs = require('fs');
const file = process.argv[2] || 'package-lock.json';
const l = JSON.parse(fs.readFileSync(file));
const canvas = l.packages['node_modules/@napi-rs/canvas'];
const plat = {
  'android-arm64': { os: ['android'], cpu: ['arm64'] },
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'linux-arm-gnueabihf': { os: ['linux'], cpu: ['arm'] },
  'linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'linux-riscv64-gnu': { os: ['linux'], cpu: ['riscv64'], libc: ['glibc'] },
  'linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'win32-arm64-msvc': { os: ['win32'], cpu: ['arm64'] },
  'win32-x64-msvc': { os: ['win32'], cpu: ['x64'] },
};
let added = 0;
for (const [name, version] of Object.entries(canvas.optionalDependencies)) {
  const key = `node_modules/${name}`;
  if (l.packages[key]) continue;
  const p = plat[name.replace('@napi-rs/canvas-', '')];
  if (!p) throw new Error(`unknown platform package ${name}`);
  l.packages[key] = { version, cpu: p.cpu, ...(p.libc ? { libc: p.libc } : {}), license: 'MIT', optional: true, os: p.os, engines: { node: '>= 10' } };
  added++;
}
l.packages = Object.fromEntries(Object.entries(l.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
fs.writeFileSync(file, JSON.stringify(l, null, 2) + '\n');
console.log(`added ${added} entries`);
