// Pure pieces of the realtime layer: frame wire format, ring bounds, catch-up parts, token
// bucket, poll snapshot reader.
import { expect } from 'chai';
import { bufferParts, keepCount, MemoryRing } from '../src/realtime/catchup.js';
import { TokenBucket } from '../src/realtime/rate-limit.js';
import { toWirePoll } from '../src/realtime/votes.js';
import { decodeWire, encodeWire, WIRE_HEADER_BYTES } from '../src/realtime/wire.js';
import type { StreamFrame } from '../src/realtime/protocol.js';

describe('realtime units', () => {
  it('wire: binary and string payloads round-trip with seq, time and origin', () => {
    const bin = Buffer.from([0, 1, 2, 255]);
    const a = decodeWire(encodeWire({ seq: 7, ts: 1234.5, origin: 0xdeadbeef, data: bin }))!;
    expect(a).to.deep.include({ seq: 7, ts: 1234.5, origin: 0xdeadbeef });
    expect(Buffer.compare(a.data as Buffer, bin)).to.equal(0);
    const s = 'aGVsbG8=ñ✓';
    const enc = encodeWire({ seq: 1, ts: 1, origin: 1, data: s });
    expect(enc.length).to.equal(WIRE_HEADER_BYTES + Buffer.byteLength(s));
    expect(decodeWire(enc)!.data).to.equal(s);
    expect(decodeWire(Buffer.from('nope'))).to.equal(null);
  });

  it('keepCount: bounded by count and bytes, always the newest one', () => {
    expect(keepCount([10, 10, 10], { frames: 30, bytes: 100 })).to.equal(3);
    expect(keepCount(Array(50).fill(1), { frames: 30, bytes: 100 })).to.equal(30);
    expect(keepCount([40, 40, 40], { frames: 30, bytes: 100 })).to.equal(2);
    expect(keepCount([500, 1], { frames: 30, bytes: 100 })).to.equal(1);
    expect(keepCount([], { frames: 30, bytes: 100 })).to.equal(0);
  });

  it('MemoryRing: count, bytes and age bounds', () => {
    const ring = new MemoryRing({ frames: 3, bytes: 25, ageMs: 1000 });
    const f = (seq: number, size: number, ts = Date.now()): StreamFrame => ({ streamKey: 'k', seq, timestamp: ts, data: Buffer.alloc(size) });
    for (let i = 1; i <= 5; i++) ring.push(f(i, 5));
    expect(ring.snapshot().map((x) => x.seq)).to.deep.equal([3, 4, 5]);
    ring.push(f(6, 20));
    expect(ring.snapshot().map((x) => x.seq)).to.deep.equal([5, 6]);
    ring.push(f(7, 1, Date.now() - 5000));
    expect(ring.snapshot().map((x) => x.seq)).to.deep.equal([6]);
  });

  it('bufferParts: at most 10 binary frames per part, order kept, strings unbounded', () => {
    const frames: StreamFrame[] = Array.from({ length: 25 }, (_, i) => ({ streamKey: 'k', seq: i, timestamp: 0, data: i % 5 ? Buffer.alloc(1) : 's' }));
    const parts = bufferParts(frames);
    expect(parts.map((p) => p.frames.length)).to.deep.equal([13, 12]);
    expect(parts.flatMap((p) => p.frames.map((f) => f.seq))).to.deep.equal(frames.map((f) => f.seq));
    for (const p of parts) expect(p.frames.filter((f) => typeof f.data !== 'string').length).to.be.at.most(10);
    expect(parts.map((p) => [p.part, p.parts])).to.deep.equal([[1, 2], [2, 2]]);
    expect(bufferParts([])).to.deep.equal([{ frames: [], part: 1, parts: 1 }]);
    expect(bufferParts(Array(30).fill({ streamKey: 'k', seq: 0, timestamp: 0, data: 'x' }))).to.have.length(1);
  });

  it('TokenBucket: burst, then the rate', () => {
    const b = new TokenBucket(10, 5, 0);
    let ok = 0;
    for (let i = 0; i < 20; i++) if (b.take(0)) ok++;
    expect(ok).to.equal(5);
    expect(b.take(50)).to.equal(false);
    expect(b.take(100)).to.equal(true);
    let later = 0;
    for (let i = 0; i < 20; i++) if (b.take(10_000)) later++;
    expect(later).to.equal(5);
  });

  it('toWirePoll: the poll view as the vote widget gets it', () => {
    const view = {
      id: 3,
      question: 'Best?',
      options: [
        { key: 'A', label: 'Ryu', votes: 2, percent: 67 },
        { key: 'B', label: 'Ken', votes: 1, percent: 33 },
      ],
      total: 3,
      createdAt: 'x',
      endsAt: null,
      closedAt: null,
    };
    expect(toWirePoll(view)).to.deep.equal({
      id: '3',
      question: 'Best?',
      options: ['A', 'B'],
      labels: { A: 'Ryu', B: 'Ken' },
      counts: { A: 2, B: 1 },
      total: 3,
      endsAt: null,
    });
    expect(toWirePoll(null)).to.equal(null);
  });
});
