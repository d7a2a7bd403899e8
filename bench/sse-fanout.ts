// SSE fan-out: N concurrent /stream/feed clients on one web process at 15 fps, 640×360 preview.
// Reports the share of published frames each client received, and the web process's CPU and RSS.
import http from 'node:http';
import { Redis } from 'ioredis';
import { startService } from './lib/service.js';
import { procUsage, sampleRss, percentile, fmt, printMachine } from './lib/stats.js';

const CLIENTS = Number(process.env.CLIENTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const FPS = 15;

interface Counter {
  frames: number;
  counting: boolean;
}

function connect(url: string, agent: http.Agent): Promise<Counter> {
  return new Promise((resolve, reject) => {
    const c: Counter = { frames: 0, counting: false };
    const req = http.get(url, { agent, headers: { Accept: 'text/event-stream' } }, (res) => {
      let tail = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        // Count message terminators without keeping the frames.
        const s = tail + chunk;
        let i = -1;
        while ((i = s.indexOf('\n\n', i + 1)) >= 0) if (c.counting) c.frames += 1;
        tail = s.slice(-1);
      });
      resolve(c);
    });
    req.on('error', reject);
  });
}

async function main() {
  printMachine();
  const svc = await startService({ PREVIEW_WIDTH: '640', PREVIEW_HEIGHT: '360' });
  const redis = new Redis(svc.env.REDIS_URL);
  const sub = new Redis(svc.env.REDIS_URL);
  const streamKey = 'bench-fanout';
  try {
    const res = await fetch(`${svc.web.url}/stream/start`, {
      method: 'POST',
      headers: svc.headers,
      body: JSON.stringify({ streamKey, fps: FPS, quality: 75 }),
    });
    if (!res.ok) throw new Error(`start: ${res.status} ${await res.text()}`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 10 });
    const clients: Counter[] = [];
    for (let i = 0; i < CLIENTS; i++) clients.push(await connect(`${svc.web.url}/stream/feed?streamKey=${streamKey}`, agent));
    await new Promise((r) => setTimeout(r, 2000));

    let published = 0;
    let bytes = 0;
    let counting = false;
    await sub.subscribe(`sf:frames:${streamKey}`);
    sub.on('messageBuffer', (_ch: Buffer, msg: Buffer) => {
      if (counting) {
        published += 1;
        bytes += msg.length;
      }
    });
    const u0 = procUsage(svc.web.child.pid!);
    const rss = sampleRss(svc.web.child.pid!);
    const t0 = performance.now();
    counting = true;
    clients.forEach((c) => (c.counting = true));
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    counting = false;
    clients.forEach((c) => (c.counting = false));
    const elapsed = (performance.now() - t0) / 1000;
    const u1 = procUsage(svc.web.child.pid!);
    const mem = rss.stop();

    const shares = clients.map((c) => c.frames / published);
    console.log(`sse-fanout: ${CLIENTS} SSE clients, ${FPS} fps preview 640x360 q75, ${SECONDS} s, one web process (2-core machine shared with worker, Redis and the clients)`);
    console.log(`published ${published} frames (${fmt(published / elapsed)} fps, avg JPEG ${fmt(bytes / published / 1024)} KB)`);
    console.log(`share of frames per client: min ${fmt(Math.min(...shares) * 100, 2)}%  p50 ${fmt(percentile(shares, 50) * 100, 2)}%  max ${fmt(Math.max(...shares) * 100, 2)}%  (goal ≥ 95% for every client)`);
    console.log(`clients below 95%: ${shares.filter((s) => s < 0.95).length} (a share can read just above 100%: frames in flight at the window edges)`);
    console.log(`web process CPU: ${fmt(((u1.cpuSeconds - u0.cpuSeconds) / elapsed) * 100)}% of one core; RSS peak ${fmt(mem.peakMB)} MB, end ${fmt(mem.lastMB)} MB`);
    agent.destroy();
    await fetch(`${svc.web.url}/stream/stop`, { method: 'POST', headers: svc.headers, body: JSON.stringify({ streamKey }) });
  } finally {
    sub.disconnect();
    redis.disconnect();
    await svc.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
