// The shape of src/ (issue 8): no import cycle anywhere, dependencies point down, small files,
// and every Lua script goes through src/redis. Read from the source text (relative imports,
// `import type` included: a cycle of types is still a knot for the reader).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const SRC = path.resolve('src');
const MAX_LINES = 300;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : /\.(ts|mts|mjs)$/.test(e.name) ? [p] : [];
  });
}

const FILES = filesUnder(SRC);
const rel = (file: string) => path.relative(SRC, file).split(path.sep).join('/');

/** The src files a file imports (relative specifiers, `.js` resolved to the `.ts` beside it). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s(?:[^;'"]*?\sfrom\s)?'(\.[^']+)'|import\('(\.[^']+)'\)/g)].map((m) => m[1] ?? m[2]);
  return specs.map((spec) => {
    const abs = path.resolve(path.dirname(file), spec);
    const candidates = [abs.replace(/\.js$/, '.ts'), abs.replace(/\.mjs$/, '.mts'), abs, `${abs}.ts`, path.join(abs, 'index.ts')];
    return candidates.find((c) => existsSync(c) && FILES.includes(c)) ?? abs;
  });
}

const GRAPH = new Map(FILES.map((f) => [f, importsOf(f).filter((t) => FILES.includes(t))]));

/** Every cycle's path (one per back edge found by a depth-first search). */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of GRAPH.get(f) ?? []) {
      if (state.get(t) === 'open') found.push([...stack.slice(stack.indexOf(t)), t].map(rel));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of FILES) if (!state.has(f)) visit(f);
  return found;
}

/** The layer of a file: its top folder of src/, or the file name for top-level files. */
const layer = (file: string) => rel(file).split('/')[0].replace(/\.(ts|mts|mjs)$/, '');

/** Imports from files of `from` into the layers `banned`, as "importer → imported". */
function crossings(from: string[], banned: (target: string) => boolean): string[] {
  const out: string[] = [];
  for (const [f, targets] of GRAPH) {
    if (!from.includes(layer(f))) continue;
    for (const t of targets) if (layer(t) !== layer(f) && banned(layer(t))) out.push(`${rel(f)} → ${rel(t)}`);
  }
  return out;
}

describe('architecture of src/', () => {
  it('reads the import graph (sanity: known edges are there)', () => {
    const edges = [...GRAPH].flatMap(([f, ts]) => ts.map((t) => `${rel(f)} → ${rel(t)}`));
    expect(edges).to.include('roles.ts → redis/index.ts');
    expect(edges).to.include('realtime/cluster.ts → redis/index.ts');
    expect(edges).to.include('realtime/handlers.ts → realtime/protocol.ts'); // a multi-line import
    expect(edges.length).to.be.greaterThan(150);
  });

  it('has no import cycle', () => {
    expect(cycles().map((c) => c.join(' → '))).to.deep.equal([]);
  });

  it('src/render imports nothing from jobs, streams, routes, realtime or polls', () => {
    expect(crossings(['render'], (l) => ['jobs', 'streams', 'routes', 'realtime', 'polls'].includes(l))).to.deep.equal([]);
  });

  it('src/streams imports nothing from routes, realtime or jobs', () => {
    expect(crossings(['streams'], (l) => ['routes', 'realtime', 'jobs'].includes(l))).to.deep.equal([]);
  });

  it('the bottom (redis, db, embedded servers, config, keys, logger, redaction, errors) imports nothing above it', () => {
    const bottom = ['redis', 'db', 'embedded', 'config', 'keys', 'logger', 'redact', 'errors'];
    expect(crossings(bottom, (l) => !bottom.includes(l))).to.deep.equal([]);
  });

  it(`has no source file over ${MAX_LINES} lines`, () => {
    const long = FILES.map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > MAX_LINES);
    expect(long).to.deep.equal([]);
  });

  it('runs Lua only through src/redis (no eval/evalsha elsewhere)', () => {
    const raw = FILES.filter((f) => layer(f) !== 'redis').filter((f) => /\.(eval|evalsha|evalBuffer|evalshaBuffer|script)\s*\(|\bEVALSHA\b|'evalsha'|"evalsha"/.test(readFileSync(f, 'utf8')));
    expect(raw.map(rel)).to.deep.equal([]);
  });

  it('opens Redis connections only in src/redis (and the start-up probe)', () => {
    const opens = FILES.filter((f) => !['redis'].includes(layer(f)) && /new Redis\(|createRedis\(|\.duplicate\(\)/.test(readFileSync(f, 'utf8'))).map(rel);
    // queue.ts: the bee-queue script watcher's own client when no process client is handed in
    // (scripts, tests); embedded/redis.ts: the one-shot "does Redis answer" probe;
    // worker-health.ts: the container healthcheck, a process of its own that reads one heartbeat.
    expect(opens.sort()).to.deep.equal(['embedded/redis.ts', 'queue.ts', 'worker-health.ts']);
  });
});
