// The frame bus, its one owner: the codec (pure) and publish/subscribe against the real Redis.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keys } from '../src/keys.js';
import { BusSubscription, decodeFrame, encodeFrame, parseEvent, publishEvent, publishFrame, type BusFrame, type StreamEvent } from '../src/streams/bus.js';
import { REDIS_URL, sleep, uniqueKey, waitFor } from './helpers/env.js';
import { Subscriber } from '../src/redis/index.js';

describe('streams/bus', () => {
  describe('frame codec', () => {
    it('round-trips sequence, time and bytes', () => {
      const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
      const f = decodeFrame(encodeFrame({ seq: 4_000_000_001, ts: 1795268987537.25, jpeg }));
      expect(f).to.deep.equal({ seq: 4_000_000_001, ts: 1795268987537.25, jpeg });
    });
    it('rejects what is not a frame', () => {
      expect(decodeFrame(Buffer.from('hello world, not a frame'))).to.equal(null);
      expect(decodeFrame(Buffer.alloc(3))).to.equal(null);
    });
    it('reads only ended events', () => {
      expect(parseEvent('{"type":"ended","streamKey":"k","taskId":"t","reason":"r"}')).to.deep.equal({ type: 'ended', streamKey: 'k', taskId: 't', reason: 'r' });
      expect(parseEvent('{"type":"other","streamKey":"k"}')).to.equal(null);
      expect(parseEvent('not json')).to.equal(null);
    });
  });

  describe('publish and subscribe (real Redis)', function () {
    this.timeout(10_000);
    let redis: Redis;
    let sub: Redis;
    beforeEach(() => {
      redis = new Redis(REDIS_URL);
      sub = new Redis(REDIS_URL);
    });
    afterEach(() => {
      sub.disconnect();
      redis.disconnect();
    });

    it('delivers the frames of the streams asked for, and every event', async () => {
      const [a, b] = [uniqueKey('bus-a'), uniqueKey('bus-b')];
      const frames: Array<[string, BusFrame]> = [];
      const events: StreamEvent[] = [];
      const bus = new BusSubscription(new Subscriber(sub), { frame: (k, f) => frames.push([k, f]), event: (ev) => events.push(ev) });
      await bus.ready;
      await bus.addStream(a);
      const jpeg = Buffer.from([0xff, 0xd8, 9, 0xff, 0xd9]);
      expect(await publishFrame(redis, a, { seq: 1, ts: 1000.5, jpeg })).to.equal(1);
      expect(await publishFrame(redis, b, { seq: 2, ts: 2000, jpeg })).to.equal(0); // nobody asked for b
      await publishEvent(redis, { type: 'ended', streamKey: b, taskId: 't', reason: 'stopped' });
      await waitFor(() => frames.length === 1 && events.length === 1, 5000, 10, 'the frame and the event');
      expect(frames[0]).to.deep.equal([a, { seq: 1, ts: 1000.5, jpeg }]);
      expect(events[0]).to.deep.equal({ type: 'ended', streamKey: b, taskId: 't', reason: 'stopped' });

      await bus.removeStream(a);
      expect(await publishFrame(redis, a, { seq: 3, ts: 3000, jpeg })).to.equal(0);
      bus.close();
    });

    it('leaves alone other channels on the same connection and frames that are not frames', async () => {
      const key = uniqueKey('bus-c');
      const frames: string[] = [];
      const bus = new BusSubscription(new Subscriber(sub), { frame: (k) => frames.push(k) });
      await bus.ready;
      await bus.addStream(key);
      await sub.subscribe('sf:test:other');
      await redis.publish('sf:test:other', encodeFrame({ seq: 1, ts: 1, jpeg: Buffer.alloc(1) }));
      await redis.publish(keys.frames(key), 'garbage');
      await redis.publish(keys.events(), 'garbage');
      await publishFrame(redis, key, { seq: 7, ts: 7, jpeg: Buffer.alloc(1) });
      await waitFor(() => frames.length >= 1, 5000, 10, 'the real frame');
      await sleep(50);
      expect(frames).to.deep.equal([key]);
      bus.close();
    });
  });
});
