// /metrics for the chat bridge (issue 12): read from the bridge's own counters at scrape time,
// on the node that runs it (the others report `sf_chat_bridge_running 0`). Counters restart
// from zero when another node takes the channel over (Prometheus handles counter resets).
import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics/index.js';
import type { ChatHandle } from './index.js';

const handles = new Set<ChatHandle>();

/** Registers a chat handle for /metrics; returns the undo. */
export function trackChat(h: ChatHandle): () => void {
  handles.add(h);
  return () => void handles.delete(h);
}

type Row = { labels: { platform: string; channel: string }; running: number; s: ReturnType<ChatHandle['stats']> };
const rows = (): Row[] =>
  [...handles].map((h) => ({ labels: { platform: h.runner.platform, channel: h.channel }, running: h.runner.running ? 1 : 0, s: h.stats() }));

function gauge(name: string, help: string, read: (r: Row) => number | null) {
  return new Gauge({
    name,
    help,
    labelNames: ['platform', 'channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of rows()) {
        const v = read(r);
        if (v !== null) this.set(r.labels, v);
      }
    },
  });
}

gauge('sf_chat_bridge_running', 'Whether this node runs the chat bridge of the channel (holds its lock).', (r) => r.running);
gauge('sf_chat_connected', 'Whether the bridge on this node is logged in and reading the channel.', (r) => (r.s ? Number(r.s.connected) : null));
gauge('sf_chat_messages_per_second', 'Chat messages per second over the last 10 s.', (r) => r.s?.messagesPerSec ?? null);

new Counter({
  name: 'sf_chat_messages_total',
  help: 'Chat messages the bridge on this node received.',
  labelNames: ['platform', 'channel'],
  registers: [registry],
  collect() {
    this.reset();
    for (const r of rows()) if (r.s) this.inc(r.labels, r.s.messages);
  },
});

new Counter({
  name: 'sf_chat_votes_total',
  help: 'Votes from chat by result: accepted (recorded), duplicate (the account already voted), ignored (a malformed line, no such option, poll closed), dropped (too many in flight), failed (database away).',
  labelNames: ['platform', 'channel', 'result'],
  registers: [registry],
  collect() {
    this.reset();
    for (const r of rows()) {
      if (!r.s) continue;
      const by = { accepted: r.s.votes, duplicate: r.s.duplicates, ignored: r.s.ignored, dropped: r.s.dropped, failed: r.s.failed };
      for (const [result, n] of Object.entries(by)) this.inc({ ...r.labels, result }, n);
    }
  },
});

new Counter({
  name: 'sf_chat_reconnects_total',
  help: 'Times the bridge on this node re-established its chat connection.',
  labelNames: ['platform', 'channel'],
  registers: [registry],
  collect() {
    this.reset();
    for (const r of rows()) if (r.s) this.inc(r.labels, r.s.reconnects);
  },
});
