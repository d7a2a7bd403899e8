// The process's Prometheus registry: default process metrics and the sf_* metrics. Gauges and
// counters are filled at scrape time from the registered sources (sources.ts); only votes, job
// pickups and encode latencies are counted as they happen.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { redactKey } from '../logger.js';
import { RateSampler } from './rates.js';
import { destinationLabel, sources, type StreamSource, type WorkerSource } from './sources.js';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });
// Gauges named *_total fail `promtool check metrics`; their per-type twins (nodejs_active_handles{type}, …) stay.
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);

export interface StreamRow {
  stream: string;
  up: number;
  fps: number;
  frames: number;
  dropped: number;
  bitrateKbps: number | null;
  bytes: Array<{ destination: string; bytes: number }>;
  restarts: Record<string, number>;
}

const samplers = new WeakMap<StreamSource, RateSampler>();
let cached: { at: number; rows: StreamRow[] } | null = null;

/** One row per stream this process runs; read once per scrape (the metrics below share it). */
export function streamRows(): StreamRow[] {
  const now = performance.now();
  if (cached && now - cached.at < 100) return cached.rows;
  const rows = [...sources.streams].map((src): StreamRow => {
    const s = src.pipeline.stats();
    const b = src.pipeline.broadcast();
    let sampler = samplers.get(src);
    if (!sampler) samplers.set(src, (sampler = new RateSampler()));
    const renderFps = sampler.sample(s.frames, now);
    return {
      stream: redactKey(src.streamKey),
      up: b ? Number(b.health === 'live') : Number(src.previews() > 0),
      fps: b ? b.fps : renderFps,
      frames: s.frames,
      dropped: s.dropped,
      bitrateKbps: b?.bitrateKbps ?? null,
      // Each destination's own copy FFmpeg reports what it wrote; labelled by its id (rtmp-1, d-…), never its URL.
      bytes: (b?.destinations ?? []).map((d) => ({ destination: d.id, bytes: d.bytes })),
      restarts: b?.restartReasons ?? {},
    };
  });
  cached = { at: now, rows };
  return rows;
}

type Labels = Record<string, string>;
/** Sums values of equal label sets (two sources may report one stream, e.g. two FeedHubs in a test). */
function summed(items: Array<[Labels, number]>): Array<[Labels, number]> {
  const m = new Map<string, [Labels, number]>();
  for (const [labels, v] of items) {
    const k = JSON.stringify(labels);
    const e = m.get(k);
    if (e) e[1] += v;
    else m.set(k, [labels, v]);
  }
  return [...m.values()];
}

function gauge(name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]> | Promise<Array<[Labels, number]>>) {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const items = summed(await read());
      this.reset();
      for (const [labels, v] of items) this.set(labels, v);
    },
  });
}

/** A counter whose value is a total kept elsewhere: set at scrape time (it never goes down while its source lives). */
function counter(name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>) {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      const items = summed(read());
      this.reset();
      for (const [labels, v] of items) this.inc(labels, Math.max(0, v));
    },
  });
}

gauge('sf_stream_up', 'Whether the stream is on air (1) on this worker: its broadcast is live, or (without one) previews flow.', ['stream'], () =>
  streamRows().map((r) => [{ stream: r.stream }, r.up]),
);
gauge('sf_stream_fps', 'Frames per second of the stream: encoded by FFmpeg (with a broadcast), else rendered.', ['stream'], () =>
  streamRows().map((r) => [{ stream: r.stream }, r.fps]),
);
counter('sf_stream_frames_total', 'Frames rendered by the stream since its start on this worker.', ['stream'], () =>
  streamRows().map((r) => [{ stream: r.stream }, r.frames]),
);
counter('sf_stream_frames_dropped_total', 'Frames dropped (render ticks skipped, or FFmpeg not taking them) since the start on this worker.', ['stream'], () =>
  streamRows().map((r) => [{ stream: r.stream }, r.dropped]),
);
counter('sf_stream_output_bytes_total', 'Bytes muxed to a destination (FFmpeg total_size; absent with several outputs).', ['stream', 'destination'], () =>
  streamRows().flatMap((r) => r.bytes.map((b): [Labels, number] => [{ stream: r.stream, destination: b.destination }, b.bytes])),
);
counter('sf_ffmpeg_restarts_total', 'FFmpeg restarts by the reason the previous run ended (stalled, killed, exited, spawn).', ['stream', 'reason'], () =>
  streamRows().flatMap((r) => Object.entries(r.restarts).map(([reason, n]): [Labels, number] => [{ stream: r.stream, reason }, n])),
);
gauge('sf_sse_clients', 'SSE preview clients (/stream/feed) connected to this web process.', ['stream'], () =>
  [...sources.feeds].flatMap((f) => f.metrics().clients.map((c): [Labels, number] => [{ stream: redactKey(c.streamKey) }, c.clients])),
);
counter('sf_sse_frames_skipped_total', 'Preview frames skipped for SSE clients that were behind.', [], () =>
  [...sources.feeds].map((f): [Labels, number] => [{}, f.metrics().skipped]),
);
gauge('sf_socket_viewers', 'socket.io viewers of a stream on this web process.', ['stream'], () =>
  [...sources.viewers].flatMap((v) => v().streamDetails.map((d): [Labels, number] => [{ stream: d.streamKey }, d.viewers])),
);

// Issue 13: each worker of this process, by id (a worker id names no secret).
const workers = <T>(read: (w: WorkerSource) => T) => [...sources.workers].map(read);
gauge('sf_worker_headroom_streams', 'More streams the worker can take now at full rate (measured CPU headroom, WORKER_CONCURRENCY at most).', ['worker'], () =>
  workers((w): [Labels, number] => [{ worker: w.workerId }, w.snapshot().headroom]),
);
gauge('sf_worker_cpu_available_cores', 'Cores left for new streams on the worker\'s machine after the safety margin (negative: overcommitted).', ['worker'], () =>
  workers((w): Array<[Labels, number]> => {
    const v = w.snapshot().cpuAvailable;
    return v === null ? [] : [[{ worker: w.workerId }, v]];
  }).flat(),
);
gauge('sf_worker_stream_cost_cores', 'Cores one stream costs on the worker (measured, configured or the default).', ['worker'], () =>
  workers((w): [Labels, number] => [{ worker: w.workerId }, w.snapshot().costPerStream]),
);
gauge('sf_worker_shed_level', 'Load shed on the worker: 0 full rate, 1 previews slowed, 2 scene effects off too, 3-5 every broadcast rendered at a lower rate.', ['worker'], () =>
  workers((w): [Labels, number] => [{ worker: w.workerId }, w.snapshot().shedLevel]),
);
counter('sf_worker_shed_steps_total', 'Shed-level changes on the worker, by direction (up: shed, down: restored).', ['worker', 'direction'], () =>
  workers((w): Array<[Labels, number]> => [[{ worker: w.workerId, direction: 'up' }, w.counts.shedUp], [{ worker: w.workerId, direction: 'down' }, w.counts.shedDown]]).flat(),
);
counter('sf_worker_handovers_total', 'Streams the worker handed to another worker with room after being over its headroom for REBALANCE_GRACE_SECONDS (rebalancing).', ['worker'], () =>
  workers((w): [Labels, number] => [{ worker: w.workerId }, w.counts.handovers]),
);
counter('sf_admission_refused_total', 'Start jobs the worker did not claim for lack of capacity (the stream waits with "no capacity").', ['worker'], () =>
  workers((w): [Labels, number] => [{ worker: w.workerId }, w.counts.refused]),
);

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
gauge('sf_queue_jobs', 'Jobs in a bee-queue by state (read from Redis at scrape time).', ['queue', 'state'], async () => {
  const out: Array<[Labels, number]> = [];
  await Promise.all(
    [...sources.queues.values()].map(async (q) => {
      // A Redis that does not answer must not hang the scrape.
      const h = await Promise.race([q.checkHealth(), new Promise<null>((r) => setTimeout(() => r(null), 1000).unref())]).catch(() => null);
      if (h) for (const state of QUEUE_STATES) out.push([{ queue: q.name, state }, h[state]]);
    }),
  );
  return out;
});

export const votesTotal = new Counter({
  name: 'sf_votes_total',
  help: 'Votes by result: accepted, duplicate, closed (poll over), invalid, no_poll, error.',
  labelNames: ['result'],
  registers: [registry],
});

export const jobPickupSeconds = new Histogram({
  name: 'sf_job_pickup_seconds',
  help: 'Time from enqueueing a job to a worker starting it.',
  labelNames: ['queue'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const encodeLatencySeconds = new Histogram({
  name: 'sf_encode_latency_seconds',
  help: 'Time from the start of a frame\'s render to FFmpeg taking the frame from its stdin.',
  buckets: [0.005, 0.01, 0.02, 0.033, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [registry],
});
