// A keep-alive HTTP/1.1 load loop in a worker thread, so the load generator does not share
// the event loop of the in-process server it measures. It writes requests on raw sockets and
// reads just enough of each answer (status line, Content-Length or chunked end) to send the
// next one: node's http client costs more CPU than the server we measure. Each connection
// is one virtual client sending its next request as soon as the previous one is answered.
import { Worker } from 'node:worker_threads';

export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  clients: number;
  seconds: number;
  /** POST bodies: a JS function body `(client, i) => object` evaluated in the worker. */
  bodyFn?: string;
  /** Headers on every request, and per request: a JS function body `(client, i) => object`. */
  headers?: Record<string, string>;
  headersFn?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  statuses: Record<string, number>;
  latenciesMs: number[];
  /** For POST /api/vote: option → count of 200 answers (read from the answer body). */
  accepted: Record<string, number>;
  errors: string[];
}

const WORKER = `
const net = require('node:net');
const { parentPort, workerData: o } = require('node:worker_threads');
const u = new URL(o.url);
const body = o.bodyFn ? new Function('client', 'i', o.bodyFn) : null;
const headersOf = o.headersFn ? new Function('client', 'i', o.headersFn) : null;
const fixed = Object.entries(o.headers || {}).map(([k, v]) => k + ': ' + v + '\\r\\n').join('');
const statuses = {}, accepted = {}, errors = [];
const lat = [];
let requests = 0;
const started = Date.now();
const deadline = started + o.seconds * 1000;
const head = o.method + ' ' + u.pathname + u.search + ' HTTP/1.1\\r\\nHost: ' + u.host + '\\r\\nConnection: keep-alive\\r\\n';

function client(c) {
  return new Promise((resolve) => {
    const sock = net.connect(Number(u.port), u.hostname);
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0), i = 0, t0 = 0n;
    const send = () => {
      if (Date.now() >= deadline) { sock.end(); return resolve(); }
      let req;
      const extra = fixed + (headersOf ? Object.entries(headersOf(c, i)).map(([k, v]) => k + ': ' + v + '\\r\\n').join('') : '');
      if (body) {
        const p = JSON.stringify(body(c, i));
        req = head + extra + 'Content-Type: application/json\\r\\nContent-Length: ' + Buffer.byteLength(p) + '\\r\\n\\r\\n' + p;
      } else req = head + extra + '\\r\\n';
      i++;
      t0 = process.hrtime.bigint();
      sock.write(req);
    };
    sock.on('connect', send);
    sock.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      for (;;) {
        const end = buf.indexOf('\\r\\n\\r\\n');
        if (end < 0) return;
        const headers = buf.subarray(0, end).toString('latin1');
        const m = /content-length: *(\\d+)/i.exec(headers);
        let len;
        if (m) len = Number(m[1]);
        else if (/transfer-encoding: *chunked/i.test(headers)) {
          const z = buf.indexOf('\\r\\n0\\r\\n\\r\\n', end);
          if (z < 0) return;
          len = z + 7 - (end + 4);
        } else len = 0;
        if (buf.length < end + 4 + len) return;
        const status = headers.slice(9, 12);
        const resBody = buf.subarray(end + 4, end + 4 + len);
        buf = buf.subarray(end + 4 + len);
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        requests++;
        statuses[status] = (statuses[status] || 0) + 1;
        if (status === '200' && body) {
          try { const opt = JSON.parse(resBody.toString()).option; accepted[opt] = (accepted[opt] || 0) + 1; } catch {}
        }
        send();
      }
    });
    sock.on('error', (e) => { if (errors.length < 10) errors.push(e.message); statuses.error = (statuses.error || 0) + 1; resolve(); });
    sock.on('close', resolve);
  });
}
Promise.all(Array.from({ length: o.clients }, (_, c) => client(c))).then(() => {
  parentPort.postMessage({ requests, seconds: (Date.now() - started) / 1000, statuses, latenciesMs: lat, accepted, errors });
});
`;

export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: opts });
    w.once('message', (r: LoadResult) => {
      resolve(r);
      void w.terminate();
    });
    w.once('error', reject);
  });
}
