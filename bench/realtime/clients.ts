// A benchmark client process: many socket.io connections, driven by the parent over IPC.
//   {cmd:'viewers', url, key, count, paused}  connect `count` viewers (the first `paused` stop
//       reading their TCP socket once joined) → {joined}
//   {cmd:'resume'}  the paused viewers read again (what was queued for them arrives)
//   {cmd:'report'}  → {received[], latencies (ms, send→receive, every frame of every reading viewer)}
//   {cmd:'votes', url, count, ratePerClient, durationMs, options, addressPrefix?} → {accepted{}, refused, other, ackMs[]}
//       (addressPrefix 'a.b.': client i comes from a.b.<i div 250>.<i mod 250 + 1>, via X-Forwarded-For)
//   {cmd:'close'}
import { io, type Socket } from 'socket.io-client';

type Msg = Record<string, any>;
const sockets: Socket[] = [];
const received: number[] = [];
const latencies: number[] = [];
const pausedTcp: import('node:net').Socket[] = [];

function connect(url: string, address?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // `address`: the client address the server budgets (X-Forwarded-For; the server trusts loopback proxies).
    const extraHeaders = address ? { 'x-forwarded-for': address } : undefined;
    const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 20_000, extraHeaders });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

/** Send time the streamer put in the frame: 8 bytes (binary) or the digits before '|' (string). */
function sentAt(data: unknown): number {
  if (typeof data === 'string') return Number(data.slice(0, data.indexOf('|')));
  const b = data as Buffer;
  return b.readDoubleBE(0);
}

async function viewers(m: Msg): Promise<object> {
  const batch = 50;
  const base = received.length;
  for (let i = 0; i < m.count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, m.count - i) }, async (_, j) => {
        const idx = i + j;
        const s = await connect(m.url);
        sockets.push(s);
        const slot = base + idx;
        received[slot] = 0;
        const paused = idx < (m.paused ?? 0);
        await s.emitWithAck('user:register', { username: `v${idx}`, role: 'VIEWER' });
        s.on('stream:data', (f: { data: unknown }) => {
          received[slot] += 1;
          if (!paused) latencies.push(Date.now() - sentAt(f.data));
        });
        const r = await s.emitWithAck('stream:join', { streamKey: m.key });
        if (!r.ok) throw new Error(`join: ${JSON.stringify(r)}`);
        if (paused) {
          const tcp = (s.io.engine.transport as any).ws._socket as import('node:net').Socket;
          tcp.pause();
          pausedTcp.push(tcp);
        }
      }),
    );
  }
  return { joined: sockets.length };
}

async function votes(m: Msg): Promise<object> {
  const accepted: Record<string, number> = {};
  let refused = 0;
  let other = 0;
  const ackMs: number[] = [];
  const address = (i: number) => (m.addressPrefix ? `${m.addressPrefix}${Math.floor(i / 250)}.${(i % 250) + 1}` : undefined);
  const clients = await Promise.all(Array.from({ length: m.count }, (_, i) => connect(m.url, address(i))));
  sockets.push(...clients);
  await Promise.all(clients.map((s, i) => s.emitWithAck('user:register', { username: `voter${i}`, role: 'VIEWER' })));
  const startedAt = Date.now();
  const end = startedAt + m.durationMs;
  const interval = 1000 / m.ratePerClient;
  await Promise.all(
    clients.map(
      (s, i) =>
        new Promise<void>((resolve) => {
          let n = 0;
          let inflight = 0;
          const start = Date.now();
          const tick = () => {
            const now = Date.now();
            if (now >= end) {
              clearInterval(timer);
              const wait = setInterval(() => inflight === 0 && (clearInterval(wait), resolve()), 20);
              return;
            }
            // Catch up with the schedule (timers are coarse), one vote per slot.
            while (start + n * interval <= now) {
              const option = m.options[(i + n) % m.options.length];
              n += 1;
              inflight += 1;
              const t = performance.now();
              s.emit('vote:cast', { option }, (r: { ok: boolean; error?: { code: string } }) => {
                inflight -= 1;
                ackMs.push(performance.now() - t);
                if (r.ok) accepted[option] = (accepted[option] ?? 0) + 1;
                else if (r.error?.code === 'rate_limited') refused += 1;
                else other += 1;
              });
            }
          };
          const timer = setInterval(tick, 5);
        }),
    ),
  );
  return { accepted, refused, other, ackMs, startedAt, endedAt: Date.now() };
}

process.on('message', async (m: Msg) => {
  try {
    if (m.cmd === 'viewers') process.send!(await viewers(m));
    else if (m.cmd === 'report') process.send!({ received, latencies });
    else if (m.cmd === 'resume') {
      for (const tcp of pausedTcp) tcp.resume();
      process.send!({ resumed: pausedTcp.length });
    }
    else if (m.cmd === 'votes') process.send!(await votes(m));
    else if (m.cmd === 'close') {
      for (const s of sockets) s.disconnect();
      process.send!({ closed: true });
      setTimeout(() => process.exit(0), 100);
    }
  } catch (err) {
    process.send!({ error: String(err) });
  }
});
