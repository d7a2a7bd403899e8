// Dependencies point down: the stream domain knows nothing of its users (routes, realtime,
// jobs), and the render library knows nothing of jobs, streams, routes or realtime.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const SRC = path.resolve('src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : /\.(ts|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Top-level folders of src/ that a folder's files import from (relative imports only). */
function importedFolders(folder: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of filesUnder(path.join(SRC, folder))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
      const target = path.relative(SRC, path.resolve(path.dirname(file), m[1] ?? m[2]));
      const top = target.split(path.sep)[0];
      if (top !== folder && !top.endsWith('.js')) found.set(top, [...(found.get(top) ?? []), path.relative(SRC, file)]);
    }
  }
  return found;
}

describe('layers (streams, render)', () => {
  it('src/streams imports nothing from routes, realtime or jobs', () => {
    const used = importedFolders('streams');
    for (const above of ['routes', 'realtime', 'jobs']) expect(used.get(above), above).to.equal(undefined);
  });

  it('src/render imports nothing from jobs, streams, routes, realtime or polls', () => {
    const used = importedFolders('render');
    for (const above of ['jobs', 'streams', 'routes', 'realtime', 'polls']) expect(used.get(above), above).to.equal(undefined);
  });
});
