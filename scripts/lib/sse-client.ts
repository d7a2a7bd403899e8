// A real SSE client over HTTP (used by the diagnostic runner, tests and benchmarks): collects `data:` messages.
import http from 'node:http';

export interface SseClient {
  messages: string[];
  arrivals: number[];
  status: number;
  closed: Promise<void>;
  /** Resolves once `n` messages arrived. */
  next(n?: number, timeoutMs?: number): Promise<string[]>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      const messages: string[] = [];
      const arrivals: number[] = [];
      const waiters: Array<() => void> = [];
      let buf = '';
      let closedResolve!: () => void;
      const closed = new Promise<void>((r) => (closedResolve = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (block.split('\n').some((l) => l.startsWith('data: '))) {
            messages.push(data);
            arrivals.push(performance.now());
            waiters.splice(0).forEach((w) => w());
          }
        }
      });
      const end = () => {
        closedResolve();
        waiters.splice(0).forEach((w) => w());
      };
      res.on('end', end);
      res.on('close', end);
      let isClosed = false;
      closed.then(() => (isClosed = true));
      resolve({
        messages,
        arrivals,
        status: res.statusCode ?? 0,
        closed,
        async next(n = 1, timeoutMs = 5000) {
          const deadline = Date.now() + timeoutMs;
          while (messages.length < n) {
            if (isClosed) throw new Error(`SSE closed after ${messages.length} messages (wanted ${n})`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`timed out with ${messages.length}/${n} SSE messages`);
            await new Promise<void>((r) => {
              const t = setTimeout(r, left);
              waiters.push(() => {
                clearTimeout(t);
                r();
              });
            });
          }
          return messages.slice(0, n);
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', reject);
  });
}

/** Checks a buffer is a complete JPEG (SOI at the start, EOI at the end). */
export function isCompleteJpeg(buf: Buffer): boolean {
  return buf.length > 100 && buf[0] === 0xff && buf[1] === 0xd8 && buf[buf.length - 2] === 0xff && buf[buf.length - 1] === 0xd9;
}
