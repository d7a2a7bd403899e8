import { expect } from 'chai';
import { mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FfmpegNotFoundError, resolveFfmpeg } from '../src/render/ffmpeg/binary.js';

const SYSTEM_FFMPEG = '/usr/bin/ffmpeg';

async function ffmpegStaticInstalled(): Promise<boolean> {
  const name = 'ffmpeg-static';
  try {
    const mod = (await import(name)) as { default?: unknown };
    return typeof mod.default === 'string';
  } catch {
    return false;
  }
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('resolveFfmpeg', () => {
  const savedPath = process.env.PATH;
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sf-ffbin-'));
  });
  afterEach(async () => {
    process.env.PATH = savedPath;
    await rm(dir, { recursive: true, force: true });
  });

  it('uses a working FFMPEG_PATH and reports its version', async () => {
    const found = await resolveFfmpeg(SYSTEM_FFMPEG);
    expect(found.source).to.equal('FFMPEG_PATH');
    expect(found.path).to.equal(SYSTEM_FFMPEG);
    expect(found.version).to.match(/^\d+\.\d+/);
  });

  it('caches per input', async () => {
    const a = resolveFfmpeg(SYSTEM_FFMPEG);
    expect(resolveFfmpeg(SYSTEM_FFMPEG)).to.equal(a);
    await a;
  });

  it('a missing FFMPEG_PATH is an error, not a silent fallback', async () => {
    const err = await rejection(resolveFfmpeg(path.join(dir, 'nope', 'ffmpeg')));
    expect(err).to.be.instanceOf(FfmpegNotFoundError);
    expect(err.message).to.include(`FFMPEG_PATH=${path.join(dir, 'nope', 'ffmpeg')}`);
    expect(err.message).to.include('file not found');
    expect(err.message).to.include('unset FFMPEG_PATH');
  });

  it('an FFMPEG_PATH that is not FFmpeg is an error', async () => {
    const fake = path.join(dir, 'ffmpeg');
    await writeFile(fake, '#!/bin/sh\necho "hello from a fake"\n');
    await chmod(fake, 0o755);
    const err = await rejection(resolveFfmpeg(fake));
    expect(err).to.be.instanceOf(FfmpegNotFoundError);
    expect(err.message).to.match(/not FFmpeg/);
  });

  it('falls back to ffmpeg on PATH', async function () {
    if (await ffmpegStaticInstalled()) this.skip(); // ffmpeg-static would win
    await symlink(SYSTEM_FFMPEG, path.join(dir, 'ffmpeg'));
    process.env.PATH = `${path.join(dir, 'empty')}${path.delimiter}${dir}`;
    const found = await resolveFfmpeg(undefined);
    expect(found).to.include({ source: 'PATH', path: path.join(dir, 'ffmpeg') });
    expect(found.version).to.match(/^\d+\.\d+/);
  });

  it('with nothing anywhere, names all three places and the fix', async function () {
    if (await ffmpegStaticInstalled()) this.skip();
    process.env.PATH = dir;
    const err = await rejection(resolveFfmpeg(''));
    expect(err).to.be.instanceOf(FfmpegNotFoundError);
    for (const place of ['FFMPEG_PATH', 'ffmpeg-static', 'PATH', 'Install FFmpeg', 'set FFMPEG_PATH']) {
      expect(err.message).to.include(place);
    }
    expect((err as FfmpegNotFoundError).attempts.map((a) => a.source)).to.deep.equal(['FFMPEG_PATH', 'ffmpeg-static', 'PATH']);
  });
});
