// Who is asking: the client address behind trusted proxies (TRUST_PROXY), one rule for Express
// (`trust proxy`) and for socket.io's handshake, so both budget the same address.
import net from 'node:net';
import type http from 'node:http';

/** (address, hop index) → whether that hop is a proxy we trust; Express's `trust proxy` shape. */
export type TrustFn = (addr: string, hop: number) => boolean;

const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as plain IPv4: one key per client. */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return 'unknown';
  const a = addr.trim();
  return a.toLowerCase().startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

/** TRUST_PROXY: "false" (default), "true", a hop count, or a list of addresses/CIDRs/loopback/uniquelocal/linklocal. */
export function compileTrust(setting: string): TrustFn {
  const s = setting.trim().toLowerCase();
  if (s === '' || s === 'false') return () => false;
  if (s === 'true') return () => true;
  if (/^\d+$/.test(s)) {
    const hops = Number(s);
    return (_a, i) => i < hops;
  }
  const list = new net.BlockList();
  for (const raw of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    for (const entry of NAMED[raw] ?? [raw]) {
      const [ip, bits] = entry.split('/');
      const family = net.isIPv6(ip) ? 'ipv6' : 'ipv4';
      if (!net.isIP(ip)) throw new Error(`TRUST_PROXY: "${raw}" is not an address, a CIDR or a name`);
      if (bits !== undefined) list.addSubnet(ip, Number(bits), family);
      else list.addAddress(ip, family);
    }
  }
  const check = (addr: string) => {
    const a = normalizeAddress(addr);
    const family = net.isIPv6(a) ? 'ipv6' : net.isIPv4(a) ? 'ipv4' : null;
    return family ? list.check(a, family) : false;
  };
  // Express asks on every read of req.ip, for every hop: remember the answers (BlockList.check
  // builds a SocketAddress each time). Bounded: a flood of distinct addresses starts it afresh.
  const known = new Map<string, boolean>();
  return (addr) => {
    let trusted = known.get(addr);
    if (trusted === undefined) {
      if (known.size >= 10_000) known.clear();
      known.set(addr, (trusted = check(addr)));
    }
    return trusted;
  };
}

/**
 * The client's address: the socket's peer, then X-Forwarded-For right to left for as long as
 * each hop is trusted (what Express's req.ip does with the same function).
 */
export function clientAddress(req: http.IncomingMessage, trust: TrustFn): string {
  const peer = normalizeAddress(req.socket?.remoteAddress);
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .reverse();
  const chain = [peer, ...forwarded];
  for (let i = 0; i < chain.length - 1; i++) {
    if (!trust(chain[i], i)) return normalizeAddress(chain[i]);
  }
  return normalizeAddress(chain[chain.length - 1]);
}
