// scripts/start.mjs (`npm start`) runs dist/ only when it is the build of the current sources.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
// @ts-expect-error: a plain .mjs script without type declarations
import { distIsFresh, writeStamp } from '../scripts/dist-stamp.mjs';

const fresh = distIsFresh as (root: string) => boolean;
const stamp = writeStamp as (root: string, startedMs: number) => void;

describe('npm start: build or sources', () => {
  let root: string;
  const at = (file: string, ms: number) => fs.utimesSync(path.join(root, file), new Date(ms), new Date(ms));
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-stamp-'));
    fs.mkdirSync(path.join(root, 'src/db'), { recursive: true });
    fs.mkdirSync(path.join(root, 'dist'));
    for (const f of ['src/main.ts', 'src/db/index.ts', 'tsconfig.json', 'tsconfig.build.json', 'dist/main.js']) fs.writeFileSync(path.join(root, f), '');
    const old = Date.now() - 60_000;
    for (const f of ['src/main.ts', 'src/db/index.ts', 'src/db', 'src', 'tsconfig.json', 'tsconfig.build.json']) at(f, old);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is stale without a stamp or without dist/main.js', () => {
    expect(fresh(root)).to.equal(false);
    stamp(root, Date.now() - 30_000);
    expect(fresh(root)).to.equal(true);
    fs.rmSync(path.join(root, 'dist/main.js'));
    expect(fresh(root)).to.equal(false);
  });

  it('is stale when a source, a new file, a deleted file or a tsconfig is newer than the build start', () => {
    const built = Date.now() - 30_000;
    stamp(root, built);
    expect(fresh(root)).to.equal(true);
    at('src/db/index.ts', built + 1000); // edited during or after the build
    expect(fresh(root)).to.equal(false);
    at('src/db/index.ts', built - 1000);
    expect(fresh(root)).to.equal(true);
    fs.rmSync(path.join(root, 'src/db/index.ts')); // dates its directory now
    expect(fresh(root)).to.equal(false);
    at('src/db', built - 1000);
    at('tsconfig.json', built + 1000);
    expect(fresh(root)).to.equal(false);
  });
});
