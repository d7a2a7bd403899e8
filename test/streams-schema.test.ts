// The stream parameters' one schema source: every router body and job payload accepts and
// refuses exactly what it did before the schemas were merged (the golden file was captured from
// the three separate schemas; issue 9 made createBody's screenId optional), and the web role's scene catalog agrees with the real registry.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { z } from 'zod';
import { startBody } from '../src/routes/stream.js';
import { createBody } from '../src/routes/streams-api.js';
import { JOBS } from '../src/jobs/definitions.js';
import { parse } from '../src/routes/parse.js';
import { AppError } from '../src/errors.js';
import { checkScreen, fpsSchema, qualitySchema, screenIdSchema, streamKeySchema } from '../src/streams/schema.js';
import { SCENE_CATALOG, sceneIds } from '../src/render/scenes/catalog.js';

interface Golden {
  name: 'startBody' | 'createBody' | 'startPayload';
  input: unknown;
  ok?: unknown;
  error?: string;
  details?: unknown;
}

const golden = JSON.parse(readFileSync(new URL('./fixtures/stream-schema-golden.json', import.meta.url), 'utf8')) as Golden[];
const schemas: Record<Golden['name'], z.ZodType> = { startBody, createBody, startPayload: JOBS.start.schema };

function run(schema: z.ZodType, input: unknown): { ok?: unknown; error?: string; details?: unknown } {
  try {
    return { ok: parse(schema, input) };
  } catch (err) {
    const e = err as AppError;
    return { error: e.message, details: e.details };
  }
}

describe('streams/schema', () => {
  describe('answers exactly as the three schemas did before', () => {
    for (const g of golden) {
      it(`${g.name} ${JSON.stringify(g.input).slice(0, 70)}`, () => {
        const { name, input, ...expected } = g;
        expect(run(schemas[name], input)).to.deep.equal(expected);
      });
    }
  });

  it('takes fps and broadcast fps 1-60, quality 1-100, integers only', () => {
    for (const v of [1, 15, 60]) expect(fpsSchema.safeParse(v).success, String(v)).to.equal(true);
    for (const v of [0, 61, 12.5, '15', null, -1]) expect(fpsSchema.safeParse(v).success, String(v)).to.equal(false);
    for (const v of [1, 75, 100]) expect(qualitySchema.safeParse(v).success, String(v)).to.equal(true);
    for (const v of [0, 101, 50.5]) expect(qualitySchema.safeParse(v).success, String(v)).to.equal(false);
  });

  it('takes stream keys of 1-64 of A-Z a-z 0-9 _ - and screen ids of 1-64 characters', () => {
    for (const k of ['a', 'live_123-ABC', 'k'.repeat(64)]) expect(streamKeySchema.safeParse(k).success, k).to.equal(true);
    for (const k of ['', 'a/b', 'a b', 'k'.repeat(65), 'ключ']) expect(streamKeySchema.safeParse(k).success, k).to.equal(false);
    expect(streamKeySchema.safeParse('a/b').error?.issues[0].message).to.equal('stream key: 1-64 characters of A-Z a-z 0-9 _ -');
    expect(screenIdSchema.safeParse('').success).to.equal(false);
    expect(screenIdSchema.safeParse('s'.repeat(65)).success).to.equal(false);
  });

  it('the routers and the start job share the same ranges', () => {
    const body = { screenId: 'testcard', streamKey: 'abc' };
    const payload = { ...body, taskId: '123e4567-e89b-12d3-a456-426614174000', requestedAt: 1, fps: 15, quality: 75 };
    for (const [field, values] of [['fps', [0, 1, 60, 61]], ['quality', [0, 1, 100, 101]], ['broadcastFps', [0, 1, 60, 61]]] as const) {
      for (const v of values) {
        const a = startBody.safeParse({ [field]: v }).success;
        const b = createBody.safeParse({ ...body, [field]: v }).success;
        const c = JOBS.start.schema.safeParse({ ...payload, [field]: v }).success;
        expect([a, b, c], `${field}=${v}`).to.deep.equal([a, a, a]);
      }
    }
  });

  it('takes the seeds\' screen ids as aliases and answers the scene\'s own id', () => {
    expect(checkScreen('testcard')).to.equal('testcard');
    expect(checkScreen('test')).to.equal('testcard');
    expect(checkScreen('poll')).to.equal('poll');
    expect(() => checkScreen('toString')).to.throw(/unknown screenId/);
  });

  it('refuses an unknown screen id with a 400 listing the known ones', () => {
    expect(() => checkScreen('testcard')).not.to.throw();
    try {
      checkScreen('nope');
      expect.fail('should throw');
    } catch (err) {
      const e = err as AppError;
      expect([e.status, e.id, e.message]).to.deep.equal([400, 'bad_request', 'unknown screenId "nope"']);
      expect(e.details).to.deep.equal({ field: 'screenId', known: ['testcard', 'poll', 'timecode'] });
    }
  });
});

describe('scene catalog (web role, no canvas)', () => {
  it('lists the same scenes, with the same descriptions, as the real registry', async () => {
    const { getScene, sceneIds: registryIds } = await import('../src/render/scenes/index.js');
    expect(sceneIds()).to.deep.equal(registryIds());
    for (const s of SCENE_CATALOG) expect(getScene(s.id)?.description, s.id).to.equal(s.description);
  });

  it('keeps the native canvas library out of the web role', async () => {
    const { execFileSync } = await import('node:child_process');
    // A fresh process: this one has loaded canvas for other tests already.
    const code = `const m = await import('./src/render/scenes/catalog.ts'); await import('./src/web-server.ts');
      const loaded = Object.keys((await import('node:module')).createRequire(import.meta.url).cache).some((k) => k.includes('@napi-rs'));
      console.log(JSON.stringify({ ids: m.sceneIds(), loaded }));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(JSON.parse(out)).to.deep.equal({ ids: ['testcard', 'poll', 'timecode'], loaded: false });
  });
});
