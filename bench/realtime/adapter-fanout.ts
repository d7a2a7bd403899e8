// The other way to fan socket-stream frames out across web nodes, kept to compare against the
// service's frame bus (src/realtime/fanout.ts) in bench/realtime-fanout.ts (FANOUT=adapter):
// socket.io's Redis adapter broadcasts each frame to the room on every node (volatile: a viewer
// whose transport is busy drops it). Nothing is published on the frame channel, so other
// nodes do not subscribe to it; the catch-up ring is still written.
// The adapter needs a subscriber connection of its own (it subscribes by pattern and owns
// its channels): benchmark-only, so it stays out of the process's shared subscriber.
import { createAdapter } from '@socket.io/redis-adapter';
import { keys } from '../../src/keys.js';
import { createRedis } from '../../src/redis/index.js';
import type { SocketFanout } from '../../src/realtime/fanout.js';
import { room } from '../../src/realtime/protocol.js';

export const adapterFanout: SocketFanout = {
  name: 'adapter',
  emit: (io, frame) => io.to(room(frame.streamKey)).volatile.emit('stream:data', frame),
  channel: () => null,
  adapter(redis, url) {
    const sub = createRedis(url, 'bench-adapter-sub', { subscriber: true });
    return { adapter: createAdapter(redis, sub, { key: keys.rtAdapter() }), close: () => sub.disconnect() };
  },
};
