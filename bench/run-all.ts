// `npm run bench`: every benchmark under bench/, one after the other (each prints its figures).
// BENCH=name1,name2 runs a subset (issue14 and soak run only when named: they take 10–30+ minutes).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.env.BENCH?.split(',').map((s) => s.trim());
const scripts = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run-all.ts')
  // issue14.ts runs the others itself; soak.ts runs for half an hour.
  .filter((f) => (only ? only.includes(f.replace(/\.ts$/, '')) : !['issue14.ts', 'soak.ts'].includes(f)))
  .sort();

let failed = 0;
for (const f of scripts) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
