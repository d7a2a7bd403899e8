// 1 streamer → N viewers on one web process (default 500, spread over 2 client processes; the
// server in its own process): 30 KB frames at 10 fps for 30 s, as binary then as base64
// strings. Prints each viewer's delivered share, send→receive latency, server CPU and RSS.
// Then across nodes: streamer on node A, viewers on node B, node C idle, with the per-stream
// Redis channel ('bus', ours) and with the socket.io Redis adapter, to compare.
// Env: VIEWERS, SECONDS, FPS, FRAME_KB, MODES=binary,base64, CLIENT_PROCS, CROSS=0 to skip the
// cross-node part (CROSS_VIEWERS, CROSS_SECONDS).
import crypto from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { BENCH_TOKEN, fmt, monitor, percentile, procSample, sleep, startClients, startServer } from './realtime/lib.js';

const VIEWERS = Number(process.env.VIEWERS ?? 500);
const SECONDS = Number(process.env.SECONDS ?? 30);
const FPS = Number(process.env.FPS ?? 10);
const FRAME_KB = Number(process.env.FRAME_KB ?? 30);
const MODES = (process.env.MODES ?? 'binary,base64').split(',') as ('binary' | 'base64')[];
const PROCS = Number(process.env.CLIENT_PROCS ?? 2);
const PAUSED = Number(process.env.PAUSED ?? 0); // used by realtime-slow.ts

export interface RunResult {
  mode: string;
  sent: number;
  reading: number;
  minShare: number;
  p50Share: number;
  atLeast99: number;
  latP50: number;
  latP99: number;
  latMax: number;
  serverCpu: number;
  rssStart: number;
  rssMax: number;
  rssEnd: number;
  /** Viewer node's RSS (MiB), one sample a second. */
  rssSeries: number[];
  clientCpu: number;
  pausedReceived: number[];
  /** CPU % of every server node (cross-node runs: A streamer, B viewers, C idle). */
  nodeCpu: number[];
}

export interface RunOptions {
  viewers: number;
  paused: number;
  seconds?: number;
  serverEnv?: Record<string, string>;
  /** 1: everything on one node; 3: streamer on A, viewers on B, C idle. */
  nodes?: 1 | 3;
}

export async function run(mode: 'binary' | 'base64', opts: RunOptions): Promise<RunResult> {
  const seconds = opts.seconds ?? SECONDS;
  const servers = await Promise.all(Array.from({ length: opts.nodes ?? 1 }, () => startServer(opts.serverEnv)));
  const server = servers[0];
  const viewerServer = servers[1] ?? server;
  const procs = Array.from({ length: PROCS }, () => startClients());
  let streamer: Socket | null = null;
  try {
    streamer = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: BENCH_TOKEN } });
    const created = new Promise<string>((resolve, reject) => {
      streamer!.once('stream:created', (m: { stream: { streamKey: string } }) => resolve(m.stream.streamKey));
      streamer!.once('error', (e: { message?: string }) => reject(new Error(`registering as STREAMER was refused: ${e?.message ?? JSON.stringify(e)}`)));
    });
    streamer.emit('user:register', { username: 'bench', role: 'STREAMER' });
    const key = await created;
    await streamer.emitWithAck('stream:start', { streamKey: key });

    // Paused viewers go to the first process; the rest are spread evenly.
    const per = Math.ceil(opts.viewers / PROCS);
    await Promise.all(
      procs.map((p, i) => p.request({ cmd: 'viewers', url: viewerServer.url, key, count: Math.min(per, opts.viewers - i * per), paused: i === 0 ? opts.paused : 0 })),
    );
    await sleep(2000);

    const raw = crypto.randomBytes(FRAME_KB * 1024);
    const b64 = raw.toString('base64');
    const mons = servers.map((s) => monitor(s.pid));
    const mon = mons[servers.indexOf(viewerServer)];
    const clientCpu0 = procs.reduce((n, p) => n + procSample(p.child.pid!).cpu, 0);
    const t0 = performance.now();
    let sent = 0;
    await new Promise<void>((resolve) => {
      const total = seconds * FPS;
      const timer = setInterval(() => {
        const now = Date.now();
        let data: Buffer | string;
        if (mode === 'binary') {
          const b = Buffer.from(raw);
          b.writeDoubleBE(now, 0);
          data = b;
        } else data = `${now}|${b64}`;
        streamer!.emit('stream:data:send', { streamKey: key, data });
        sent += 1;
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 1000 / FPS);
    });
    await sleep(3000); // drain
    const nodeStats = mons.map((m) => m.stop());
    if (opts.paused) {
      // What was queued for the paused viewers (kernel buffers + the server's) arrives now.
      await procs[0].request({ cmd: 'resume' });
      await sleep(3000);
    }
    const stats = nodeStats[mons.indexOf(mon)];
    const clientCpu = (100 * (procs.reduce((n, p) => n + procSample(p.child.pid!).cpu, 0) - clientCpu0)) / ((performance.now() - t0) / 1000);
    const reports = await Promise.all(procs.map((p) => p.request<{ received: number[]; latencies: number[] }>({ cmd: 'report' })));
    const pausedReceived = reports[0].received.slice(0, opts.paused);
    const reading = [...reports[0].received.slice(opts.paused), ...reports.slice(1).flatMap((r) => r.received)];
    const shares = reading.map((n) => n / sent).sort((x, y) => x - y);
    const lat = Float64Array.from(reports.flatMap((r) => r.latencies)).sort();
    return {
      mode,
      sent,
      reading: reading.length,
      minShare: shares[0],
      p50Share: percentile(shares, 50),
      atLeast99: shares.filter((s) => s >= 0.99).length,
      latP50: percentile(lat, 50),
      latP99: percentile(lat, 99),
      latMax: lat[lat.length - 1],
      serverCpu: stats.cpuPercent,
      rssStart: stats.rssStartMiB,
      rssMax: stats.rssMaxMiB,
      rssEnd: stats.rssEndMiB,
      rssSeries: stats.rss,
      clientCpu,
      pausedReceived,
      nodeCpu: nodeStats.map((n) => n.cpuPercent),
    };
  } finally {
    streamer?.disconnect();
    await Promise.all(procs.map((p) => p.request({ cmd: 'close' }).catch(() => undefined)));
    procs.forEach((p) => p.stop());
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export function print(r: RunResult): void {
  console.log(
    `${r.mode.padEnd(7)} frames sent ${r.sent}; reading viewers ${r.reading}: share min ${fmt(100 * r.minShare, 2)}% ` +
      `p50 ${fmt(100 * r.p50Share, 2)}%, ≥99%: ${r.atLeast99}/${r.reading}; latency p50 ${fmt(r.latP50, 0)} ms ` +
      `p99 ${fmt(r.latP99, 0)} ms max ${fmt(r.latMax, 0)} ms; server CPU ${fmt(r.serverCpu, 0)}% ` +
      `RSS ${fmt(r.rssStart, 0)}→max ${fmt(r.rssMax, 0)}→${fmt(r.rssEnd, 0)} MiB; client processes CPU ${fmt(r.clientCpu, 0)}%`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(
    `realtime fan-out: 1 streamer → ${VIEWERS} viewers (${PROCS} client processes), ${FRAME_KB} KB frames at ${FPS} fps for ${SECONDS} s, ` +
      `one web node; machine: ${(await import('node:os')).cpus().length} cores shared by server, clients, streamer and Redis (loopback)`,
  );
  const results: RunResult[] = [];
  for (const mode of MODES) {
    const r = await run(mode, { viewers: VIEWERS, paused: PAUSED });
    print(r);
    results.push(r);
  }
  const [bin, b64] = [results.find((r) => r.mode === 'binary'), results.find((r) => r.mode === 'base64')];
  if (bin && b64) {
    console.log(`base64 / binary: server CPU ×${fmt(b64.serverCpu / bin.serverCpu, 2)}, latency p99 ×${fmt(b64.latP99 / bin.latP99, 2)}, bytes on the wire ×${fmt(4 / 3, 2)}`);
  }
  if (process.env.CROSS !== '0') {
    const viewers = Number(process.env.CROSS_VIEWERS ?? 250);
    const secs = Number(process.env.CROSS_SECONDS ?? 15);
    console.log(`\nacross nodes (binary, ${viewers} viewers, ${secs} s): streamer on node A, viewers on node B, node C has no viewers`);
    for (const fanout of ['bus', 'adapter']) {
      const r = await run('binary', { viewers, paused: 0, seconds: secs, nodes: 3, serverEnv: { FANOUT: fanout } });
      print({ ...r, mode: fanout });
      console.log(`        node CPU: A (streamer) ${fmt(r.nodeCpu[0], 1)}%, B (viewers) ${fmt(r.nodeCpu[1], 1)}%, C (idle) ${fmt(r.nodeCpu[2], 1)}%`);
    }
  }
  process.exit(0);
}
