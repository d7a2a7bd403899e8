// Embedded RTMP server for `npm start` without RTMP_URL, so `ffplay rtmp://localhost:1935/live/<key>`
// plays the stream. Only node-media-server's RTMP session layer is used: NodeMediaServer.run()
// would also start an HTTP-FLV/admin server, open a JSON store under ./data and call
// process.exit(1) on EADDRINUSE. We own the net.Server, so listen errors reject and close() is clean.
import net from 'node:net';
import { createRequire } from 'node:module';
import { log, redactKey } from '../logger.js';

const require = createRequire(import.meta.url);
const logger = log('RTMP');

interface NmsContext {
  config: Record<string, unknown>;
}
interface NmsRtmpServer {
  handleRequest: (socket: net.Socket) => void;
  _sockets: Set<net.Socket>;
}
interface NmsLogger {
  log(message: string, level?: string): void;
}

export interface RtmpServerHandle {
  port: number;
  close(): Promise<void>;
}

/** NMS logs stream paths (`/live/<key>`): keys are credentials, so redact the name segment. */
export function redactStreamPaths(text: string): string {
  return text
    .replace(/\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)/g, (_m, app: string, name: string) => `/${app}/${redactKey(name)}`)
    .replace(/name=([A-Za-z0-9_-]+)/g, (_m, name: string) => `name=${redactKey(name)}`);
}

/** Base URL FFmpeg publishes to on the embedded server (RTMP_URL's role when it is unset). */
export function localRtmpBase(port: number, app = 'live'): string {
  return `rtmp://127.0.0.1:${port}/${app}`;
}

let nmsPrepared = false;

/** Node-media-server keeps its config, sessions and broadcasts in one module-level Context. */
function prepareNms(host: string): void {
  const context = require('node-media-server/src/core/context.js') as NmsContext;
  // No rtmp.port: NodeRtmpServer then creates no listener of its own; no http/auth/record/store.
  context.config = { bind: host, rtmp: {} };
  if (nmsPrepared) return;
  nmsPrepared = true;
  const nmsLogger = require('node-media-server/src/core/logger.js') as NmsLogger;
  nmsLogger.log = (message: string, level = 'info') => {
    const line = redactStreamPaths(String(message));
    if (level === 'error' || level === 'warn') logger.warn(line);
    else if (level === 'info') logger.info(line);
    else logger.debug(line);
  };
}

/**
 * Starts an RTMP server (publish + play) on host:port; port 0 picks a free one.
 * All servers in one process share node-media-server's stream table (one stream path, one publisher).
 */
export async function startRtmpServer(opts: { port: number; host?: string }): Promise<RtmpServerHandle> {
  const host = opts.host ?? '0.0.0.0';
  prepareNms(host);
  const NodeRtmpServer = require('node-media-server/src/server/rtmp_server.js') as new () => NmsRtmpServer;
  const nms = new NodeRtmpServer();
  const server = net.createServer((socket) => nms.handleRequest(socket));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts.port, host);
  });
  server.on('error', (err) => logger.warn(`server error: ${err.message}`));

  const address = server.address() as net.AddressInfo;
  logger.info(`RTMP server listening on ${host}:${address.port}`);

  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // server.close waits for open connections: drop publishers and players now.
        for (const socket of nms._sockets) socket.destroy();
      }).then(() => {
        logger.info(`RTMP server on port ${address.port} closed`);
      });
      return closing;
    },
  };
}
