// What /metrics reads at scrape time: the stats the code already keeps, registered here by the
// parts that own them (a start job its pipeline, the web role its FeedHub, socket.io viewers and
// queues). Registration returns its own undo; nothing is counted on the hot paths for metrics.
// Process-wide on purpose: with `npm start` the web and worker roles share one registry.
import type Queue from 'bee-queue';
import type { PipelineStats } from '../render/pipeline.js';
import type { BroadcastStatus } from '../render/thread-protocol.js';

export interface StreamSource {
  streamKey: string;
  /** The render pipeline (ThreadedPipeline): counters and its broadcast's status. */
  pipeline: { stats(): PipelineStats; broadcast(): BroadcastStatus | null };
  /** The broadcast's outputs (RTMP URLs with their keys): labels are their hosts only. */
  outputs?: string[];
  /** Preview frames published so far (a stream without a broadcast is on air once one is). */
  previews(): number;
}

export interface FeedSource {
  metrics(): { clients: Array<{ streamKey: string; clients: number }>; skipped: number };
}

export interface ViewerSource {
  /** socket.io viewers per stream on this node; keys already redacted by the distributor. */
  (): { streamDetails: Array<{ streamKey: string; viewers: number }> };
}

/** A worker's load (issue 13): its headroom and shed level, and its refusal, shed-step and handover counts. */
export interface WorkerSource {
  workerId: string;
  snapshot(): { headroom: number; cpuAvailable: number | null; costPerStream: number; shedLevel: number };
  counts: { refused: number; shedUp: number; shedDown: number; handovers: number };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyQueue = Queue<any>;

export const sources = {
  streams: new Set<StreamSource>(),
  feeds: new Set<FeedSource>(),
  viewers: new Set<ViewerSource>(),
  workers: new Set<WorkerSource>(),
  /** By queue name: the web and worker roles of one process hold the same queues twice. */
  queues: new Map<string, AnyQueue>(),
};

function add<T>(set: Set<T>, item: T): () => void {
  set.add(item);
  return () => void set.delete(item);
}

export const trackStream = (s: StreamSource) => add(sources.streams, s);
export const trackFeed = (f: FeedSource) => add(sources.feeds, f);
export const trackViewers = (v: ViewerSource) => add(sources.viewers, v);
export const trackWorker = (w: WorkerSource) => add(sources.workers, w);

/** Queues counted by sf_queue_jobs; the first holder of a name counts it. */
export function trackQueues(queues: Record<string, AnyQueue>): () => void {
  const mine: string[] = [];
  for (const q of Object.values(queues)) {
    if (sources.queues.has(q.name)) continue;
    sources.queues.set(q.name, q);
    mine.push(q.name);
  }
  return () => mine.forEach((name) => sources.queues.get(name) && sources.queues.delete(name));
}

/** A destination label without the stream key: the host of the output URL. */
export function destinationLabel(url: string | undefined): string {
  if (!url) return 'none';
  try {
    return new URL(url).host || 'rtmp';
  } catch {
    return 'rtmp';
  }
}
