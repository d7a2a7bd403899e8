// `npm run bench`: every benchmark under bench/, one after the other (each prints its figures).
// BENCH=name1,name2 runs a subset.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.env.BENCH?.split(',').map((s) => s.trim());
const scripts = fs
  .readdirSync(dir)
  // issue14.ts runs others itself; soak.ts runs for 20 minutes (run it on its own).
  .filter((f) => f.endsWith('.ts') && !['run-all.ts', 'issue14.ts', 'soak.ts'].includes(f))
  .filter((f) => !only || only.includes(f.replace(/\.ts$/, '')))
  .sort();

let failed = 0;
for (const f of scripts) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
