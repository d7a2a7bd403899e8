// Previews nobody watches (issue 14): a preview frame costs the render thread a downscale and a
// JPEG encode (~17 % of a stream's CPU), spent for nothing on an unattended stream. Once a
// second the worker reads which of its streams someone watches (streams/preview-watch.ts, one
// MGET for all of them) and previews the others at PREVIEW_IDLE_FPS. The shed ladder
// (admission.ts) sets rates through the same gate, and combineRates is the one place where the
// two meet.
import type { Redis } from 'ioredis';
import { log, redactKey } from '../logger.js';
import { readWatched } from '../streams/preview-watch.js';
import type { LoadedStream } from './admission.js';
import type { Rates } from './shed-ladder.js';

const logger = log('STREAMING-TASK');

/**
 * The rates a stream's pipeline gets: the shed ladder's, with the previews at the idle rate
 * when nobody watches (`idleFps` null: someone does). The lower preview rate wins; anything
 * else the ladder sets passes through untouched.
 */
export function combineRates<R extends Rates>(shed: R, idleFps: number | null): R {
  return idleFps === null ? shed : { ...shed, previewFps: Math.min(shed.previewFps, idleFps) };
}

type RatePipeline = LoadedStream['pipeline'];

/** One stream's pipeline as the shed ladder sees it: its rates pass here on their way. */
class RateGate implements RatePipeline {
  private shed: Rates;
  /** Until the first check says otherwise, a stream previews at its configured rate (a start's first viewer must not wait). */
  private watched = true;
  private applied: string;

  constructor(
    private readonly s: LoadedStream,
    private readonly idleFps: number,
  ) {
    this.shed = { renderFps: s.broadcastFps, previewFps: s.previewFps, effects: true };
    this.applied = JSON.stringify(this.shed);
  }

  stats() {
    return this.s.pipeline.stats();
  }

  setRates(r: Rates): void {
    this.shed = r;
    this.apply(true);
  }

  setWatched(watched: boolean): void {
    if (watched === this.watched) return;
    this.watched = watched;
    const r = this.apply(false);
    logger.debug(`stream ${redactKey(this.s.streamKey)}: ${watched ? 'watched' : 'nobody watches'}, previews at ${r.previewFps} fps`);
  }

  private apply(force: boolean): Rates {
    const r = combineRates(this.shed, this.watched ? null : this.idleFps);
    const text = JSON.stringify(r);
    if (force || text !== this.applied) this.s.pipeline.setRates(r);
    this.applied = text;
    return r;
  }
}

/** The worker's streams and whether anyone watches them; check() once a second. */
export class PreviewRates {
  private readonly gates = new Map<string, RateGate>();

  constructor(
    private readonly redis: Redis,
    private readonly idleFps: number,
  ) {}

  /**
   * Put the idle gate between a stream's pipeline and `next` (the shed ladder's register);
   * returns the undo of both.
   */
  register(s: LoadedStream, next: (s: LoadedStream) => () => void): () => void {
    const gate = new RateGate(s, this.idleFps);
    this.gates.set(s.streamKey, gate);
    const undo = next({ ...s, pipeline: gate });
    return () => {
      undo();
      if (this.gates.get(s.streamKey) === gate) this.gates.delete(s.streamKey);
    };
  }

  /** One round trip for every stream of the worker. */
  async check(): Promise<void> {
    const list = [...this.gates];
    if (!list.length) return;
    const watched = await readWatched(this.redis, list.map(([k]) => k));
    list.forEach(([, gate], i) => gate.setWatched(watched[i] ?? true));
  }
}
