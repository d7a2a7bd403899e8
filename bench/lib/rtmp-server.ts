// The RTMP server a benchmark pushes to. nginx with its RTMP module (Debian: nginx +
// libnginx-mod-rtmp) when installed: a C server costs little CPU, as a real destination would
// cost the worker nothing. Otherwise the embedded node-media-server, whose relaying of
// several 2.5 Mbit/s streams takes a good share of this 2-core machine: the figures say which.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { freePort } from '../../src/embedded/redis.js';
import { startRtmpServer } from '../../src/render/rtmp-server.js';

const MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

async function listening(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`RTMP server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `port`: listen there (a test restarts a server on the same port); default: a free one. */
export async function startBenchRtmp(opts: { port?: number } = {}): Promise<{ base: string; kind: string; port: number; /** The server's own process (nginx); absent when it runs in this one. */ pid?: number; close(): Promise<void> }> {
  const port = opts.port ?? (await freePort());
  const useNginx = process.env.BENCH_RTMP !== 'embedded' && fs.existsSync(MODULE) && spawnSync('nginx', ['-v']).status === 0;
  if (!useNginx) {
    const srv = await startRtmpServer({ port, host: '127.0.0.1' });
    return { base: `rtmp://127.0.0.1:${port}/live`, kind: 'embedded node-media-server', port, close: () => srv.close() };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-nginx-rtmp-'));
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `load_module ${MODULE};
daemon off; master_process off; worker_processes 1;
error_log ${dir}/error.log warn; pid ${dir}/nginx.pid;
events { worker_connections 1024; }
rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; } } }
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await listening(port);
  return {
    base: `rtmp://127.0.0.1:${port}/live`,
    kind: 'nginx-rtmp',
    port,
    pid: child.pid,
    async close() {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
