// The start job's side of a stream's destinations: which list the broadcast starts with (the
// state hash's, which holds the adds and removes since the start, over the payload's), applying
// a changed list to the running broadcast, and what the heartbeat writes of their status.
import type { Redis } from 'ioredis';
import { errMessage, log, redactKey } from '../logger.js';
import { keys } from '../keys.js';
import type { BroadcastStatus } from '../render/thread-protocol.js';
import type { ThreadedPipeline } from '../render/threaded-pipeline.js';
import { parseDestinations, type DestinationConfig } from '../streams/destinations.js';
import type { StartPayload } from '../streams/schema.js';
import type { Health } from '../streams/state.js';
import { updateState } from '../streams/state.js';

const logger = log('STREAMING-TASK');

/** A stream's health from its encoder's and its destinations': live while one destination is. */
export function broadcastHealth(bs: BroadcastStatus | null): Health {
  if (!bs || bs.health === 'stopped') return 'starting';
  if (bs.health !== 'live') return bs.health;
  const d = bs.destinations;
  if (!d.length || d.some((x) => x.health === 'live')) return 'live';
  return d.some((x) => x.health === 'reconnecting' || x.health === 'failed') ? 'reconnecting' : 'starting';
}

/** The error to show for the stream: the encoder's, else the first destination that is down. */
export function broadcastError(bs: BroadcastStatus | null): string | null {
  if (!bs) return null;
  if (bs.health !== 'live' && bs.lastError) return bs.lastError;
  const down = bs.destinations.find((x) => x.health !== 'live' && x.lastError);
  return down ? `destination ${down.name || down.id}: ${down.lastError}` : null;
}

export class JobDestinations {
  private applied = '';
  private pipeline: ThreadedPipeline | null = null;
  private hls = false;

  constructor(
    private readonly redis: Redis,
    private readonly p: StartPayload,
    private readonly payloadChanged?: (p: StartPayload) => void,
  ) {}

  /** The list to start with: the state hash's (a takeover, or changes since the start), else the payload's. */
  initial(state: Record<string, string>): DestinationConfig[] | undefined {
    try {
      return parseDestinations(state.destinations) ?? this.p.destinations;
    } catch (err) {
      logger.warn(`destinations of ${redactKey(this.p.streamKey)} in Redis are unreadable, using the payload's: ${errMessage(err)}`);
      return this.p.destinations;
    }
  }

  /** The broadcast runs with this list: make it the stream's, where the web can change it. */
  async started(pipeline: ThreadedPipeline, list: DestinationConfig[], hls: boolean): Promise<void> {
    this.pipeline = pipeline;
    this.hls = hls;
    this.applied = JSON.stringify(list);
    this.remember(list);
    await updateState(this.redis, this.p.streamKey, this.p.taskId, { destinations: this.applied, hls: hls ? 1 : 0 });
  }

  /** The web changed the list (told on the channel, and checked every heartbeat): apply it. */
  async refresh(): Promise<void> {
    if (!this.pipeline) return;
    const field = await this.redis.hget(keys.state(this.p.streamKey), 'destinations');
    if (field === null || field === this.applied) return;
    const list = parseDestinations(field) ?? [];
    this.applied = field;
    this.pipeline.setDestinations(list);
    this.remember(list);
    logger.info(`stream ${redactKey(this.p.streamKey)}: destinations now ${list.map((d) => d.id).join(', ') || 'none'}`);
  }

  /** What the heartbeat writes: each destination's status beside the list. */
  statusFields(bs: BroadcastStatus | null): Record<string, string> {
    return bs ? { dest_status: JSON.stringify(bs.destinations) } : {};
  }

  /** Written back with the rest of the state after a Redis restart. */
  restoreFields(): Record<string, string | number> {
    return this.pipeline ? { destinations: this.applied, hls: this.hls ? 1 : 0 } : {};
  }

  private remember(list: DestinationConfig[]): void {
    const same = JSON.stringify(this.p.destinations ?? null) === JSON.stringify(list);
    this.p.destinations = list;
    if (!same) this.payloadChanged?.(this.p);
  }
}
