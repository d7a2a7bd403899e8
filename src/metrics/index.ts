// Prometheus metrics of this process (see README "Metrics"): the registry, the sources it reads
// at scrape time, the one-line hooks, and /metrics over HTTP.
export { registry, streamRows } from './registry.js';
export { trackStream, trackFeed, trackViewers, trackQueues, trackWorker, type StreamSource, type WorkerSource } from './sources.js';
export { countVote, observePickup, voteResult } from './instrument.js';
export { metricsRouter, startMetricsServer } from './http.js';
export { accessLog } from './access-log.js';
