// Is a destination's server accepting connections? A cheap TCP probe, so an output waiting out
// its backoff retries as soon as a server that was down is back.
import net from 'node:net';

export function hostPort(url: string): { host: string; port: number } | null {
  const m = /^(rtmps?):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?/i.exec(url);
  if (!m) return null;
  return { host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : m[1].toLowerCase() === 'rtmps' ? 443 : 1935 };
}

export function tcpReachable(host: string, port: number, timeoutMs = 800): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
