// Viewer counts: the cluster total of a stream (kept atomically in Redis by ClusterState and
// published on the events channel) pushed to this node's viewers and streamer as
// `stream:viewers`, at most once per stream per `everyMs`, always the latest count.
import type { LocalStream, LocalStreams } from './local-streams.js';
import { ownerRoom, room, type RtServer } from './protocol.js';

export class ViewerCounts {
  constructor(
    private readonly io: RtServer,
    private readonly streams: LocalStreams,
    private readonly everyMs: number,
  ) {}

  /** The cluster total of a stream changed. */
  onCount(streamKey: string, count: number): void {
    const ls = this.streams.get(streamKey);
    if (!ls) return;
    ls.clusterViewers = count;
    this.push(ls);
  }

  /** Viewers of a stream as its streamer hears it: the cluster total, or this node's if higher. */
  reached(ls: LocalStream): number {
    return Math.max(ls.clusterViewers, ls.members.size - ls.pending);
  }

  private push(ls: LocalStream): void {
    if (ls.viewersTimer) return;
    const wait = Math.max(0, ls.viewersAt + this.everyMs - Date.now());
    ls.viewersTimer = setTimeout(() => {
      ls.viewersTimer = null;
      ls.viewersAt = Date.now();
      if (!this.streams.isCurrent(ls)) return;
      this.io.local.to([room(ls.key), ownerRoom(ls.key)]).emit('stream:viewers', { streamKey: ls.key, count: ls.clusterViewers });
    }, wait);
    ls.viewersTimer.unref?.();
  }
}
