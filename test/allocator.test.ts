// The canvas library's allocator (src/render/allocator.ts): mimalloc really takes the purge delay
// the entry points set before the library loads, an operator's own value wins, and every entry
// point sets it before any other import of ours.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ROOT } from './helpers/proc.js';

const run = promisify(execFile);

/** The purge delay mimalloc reports (MIMALLOC_VERBOSE) in a process that imports allocator.ts, then draws. */
async function purgeDelay(env: Record<string, string> = {}): Promise<string> {
  const script = "await import('./src/render/allocator.ts'); const { createCanvas } = await import('@napi-rs/canvas'); createCanvas(8, 8).data();";
  const { MIMALLOC_PURGE_DELAY: _, ...rest } = process.env;
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...rest, MIMALLOC_VERBOSE: '1', ...env } });
  const m = /option 'purge_delay': (-?\d+)/.exec(stderr);
  expect(m, stderr.slice(0, 500)).to.not.equal(null);
  return m![1];
}

describe('the canvas library allocator (mimalloc purge delay, issue 14)', function () {
  this.timeout(30_000);

  it('keeps freed frame buffers for 1 s (not the 10 ms default) when nothing else is set', async () => {
    expect(await purgeDelay()).to.equal('1000');
  });

  it("leaves an operator's MIMALLOC_PURGE_DELAY alone", async () => {
    expect(await purgeDelay({ MIMALLOC_PURGE_DELAY: '250' })).to.equal('250');
  });

  it('is imported by every entry point right after .env is read, before any other module of ours', () => {
    for (const entry of ['src/worker.ts', 'src/web.ts', 'src/main.ts']) {
      const imports = fs
        .readFileSync(path.join(ROOT, entry), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('import '));
      expect(imports.slice(0, 2).map((l) => l.split(';')[0]), entry).to.deep.equal(["import 'dotenv/config'", "import './render/allocator.js'"]);
    }
  });
});
