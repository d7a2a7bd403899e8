// src/render/rtmp-server.ts uses node-media-server's RTMP session layer, which has no public API
// (NodeMediaServer.run() would start an HTTP server, a JSON store and exit the process on
// EADDRINUSE). So the version is pinned exactly, and this test fails on an upgrade that changes
// what we reach into: the files, the Context's config, the logger's `log`, NodeRtmpServer's
// `handleRequest` and `_sockets`. Broadcast tests cover publishing and playing through it.
import net from 'node:net';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { startRtmpServer } from '../src/render/rtmp-server.js';
import { waitFor } from './helpers/env.js';

const require = createRequire(import.meta.url);
const PINNED = '4.4.3';

describe('node-media-server internals used by the embedded RTMP server', () => {
  it(`is pinned to exactly ${PINNED} and that version is installed`, () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.dependencies['node-media-server'], 'package.json must pin the exact version').to.equal(PINNED);
    expect(require('node-media-server/package.json').version).to.equal(PINNED);
  });

  it('has the Context, logger and RTMP server modules with the members we use', () => {
    const context = require('node-media-server/src/core/context.js');
    expect(context).to.be.an('object').that.has.property('config');
    expect(context.sessions).to.be.instanceOf(Map);
    const logger = require('node-media-server/src/core/logger.js');
    expect(logger.log).to.be.a('function');
    // Every level goes through `log`, which is what rtmp-server.ts replaces.
    const saved = logger.log;
    const seen: unknown[][] = [];
    logger.log = (...a: unknown[]) => void seen.push(a);
    try {
      logger.error('e');
      logger.warn('w');
      logger.info('i');
    } finally {
      logger.log = saved;
    }
    expect(seen).to.deep.equal([['e', 'error'], ['w', 'warn'], ['i', 'info']]);

    const NodeRtmpServer = require('node-media-server/src/server/rtmp_server.js');
    expect(NodeRtmpServer).to.be.a('function');
    const savedConfig = context.config;
    context.config = { bind: '127.0.0.1', rtmp: {} };
    try {
      const nms = new NodeRtmpServer();
      expect(nms.handleRequest).to.be.a('function');
      expect(nms._sockets).to.be.instanceOf(Set);
      // No rtmp.port: it must not create a listener of its own.
      expect(nms.tcpServer).to.equal(undefined);
    } finally {
      context.config = savedConfig;
    }
  });

  it('tracks a connection in _sockets and drops it on close()', async () => {
    const srv = await startRtmpServer({ port: 0, host: '127.0.0.1' });
    const socket = net.connect(srv.port, '127.0.0.1');
    const closed = new Promise((r) => socket.once('close', r));
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    await waitFor(() => require('node-media-server/src/core/context.js').sessions.size > 0, 10_000, 20, 'an RTMP session');
    await srv.close();
    await closed;
    expect(socket.destroyed).to.equal(true);
  });
});
