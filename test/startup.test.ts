// Start-up as a user meets it: `npm start`'s entry with no Redis, and a bad configuration.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { spawnEntry } from './helpers/proc.js';

describe('start-up', function () {
  this.timeout(30_000);

  it('exits with one line on how to get Redis when none answers and embedding is off', async () => {
    const p = spawnEntry('src/main.ts', { REDIS_URL: 'redis://127.0.0.1:1', EMBEDDED_REDIS: 'false', PORT: '0', NODE_ENV: 'development' });
    const code = await new Promise((r) => p.child.on('exit', r));
    expect(code).to.equal(1);
    expect(p.output()).to.match(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1\. Start one/);
    expect(p.output()).not.to.match(/\n\s+at /);
  });

  it('starts a private redis-server when none answers and says so', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-startup-'));
    const p = spawnEntry('src/main.ts', { REDIS_URL: 'redis://127.0.0.1:1', PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info', RTMP_URL: 'off', DATABASE_URL: '', DATA_DIR: dataDir });
    try {
      await p.waitFor(/started a private redis-server on port \d+/, 20_000);
      await p.waitFor(/Stream Fighter is up/, 20_000);
    } finally {
      expect(await p.kill('SIGTERM')).to.equal(0);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start in production without API_TOKEN, listing every problem', async () => {
    const p = spawnEntry('src/web.ts', { NODE_ENV: 'production', API_TOKEN: '', PORT: 'x' });
    const code = await new Promise((r) => p.child.on('exit', r));
    expect(code).to.equal(1);
    expect(p.output()).to.match(/API_TOKEN is required when NODE_ENV=production/);
    expect(p.output()).to.match(/PORT/);
  });
});

describe('start-up with taken ports', function () {
  this.timeout(30_000);
  it('says which port is taken and what to set, in one line', async () => {
    const net = await import('node:net');
    const blocker = net.createServer().listen(0, '0.0.0.0');
    await new Promise((r) => blocker.once('listening', r));
    const taken = (blocker.address() as import('node:net').AddressInfo).port;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-startup-'));
    try {
      const p = spawnEntry('src/main.ts', { PORT: '0', NODE_ENV: 'development', RTMP_PORT: String(taken), RTMP_URL: '', DATABASE_URL: '', DATA_DIR: dataDir, QUEUE_PREFIX: 'bq-startup-test' });
      const code = await new Promise((r) => p.child.on('exit', r));
      expect(code).to.equal(1);
      expect(p.output()).to.match(new RegExp(`port ${taken} is taken, so the embedded RTMP server cannot start: set RTMP_PORT`));
      expect(p.output()).not.to.match(/\n\s+at /);
    } finally {
      blocker.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('start-up without FFmpeg', function () {
  this.timeout(30_000);
  it('npm start runs with previews only and says why, in one line', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-startup-'));
    const p = spawnEntry('src/main.ts', {
      PATH: '/nonexistent', FFMPEG_PATH: '', PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info',
      RTMP_URL: '', DATABASE_URL: '', DATA_DIR: dataDir, QUEUE_PREFIX: 'bq-startup-test',
    });
    try {
      await p.waitFor(/no FFmpeg, so streams render previews only \(set RTMP_URL to make this an error\): FFmpeg not found\. Tried: FFMPEG_PATH: not set; ffmpeg-static: [^;]+; PATH: no ffmpeg in PATH/, 20_000);
      await p.waitFor(/Stream Fighter is up/, 20_000);
      expect(p.output()).not.to.match(/RTMP server listening/);
    } finally {
      expect(await p.kill('SIGTERM')).to.equal(0);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
