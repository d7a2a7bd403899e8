// Issue 13, the pure parts: the capacity estimate, the cost learner, the /proc parsers, the shed ladder.
import { expect } from 'chai';
import { estimateCapacity, learnCost, learnSideCost, pacedHeadroom, parseCpuList, parsePidStat, parseProcStat } from '../src/jobs/capacity.js';
import { IDLE_REBALANCE, decideRebalance, type RebalanceInput } from '../src/jobs/rebalance.js';
import { MAX_SHED_LEVEL, SHED_TUNING, costShare, describeLevel, nextShed, ratesAt, type ShedState } from '../src/jobs/shed-ladder.js';

const base = { cores: 2, idleCores: 2, ownCores: 0, streams: 0, costPerStream: 0.4, margin: 0.15, concurrency: 8 };

describe('capacity estimate (issue 13)', () => {
  it('fits streams into the cores minus the margin', () => {
    // 2 × 0.85 = 1.7 cores; 0.4 each → 4 streams.
    expect(estimateCapacity(base).headroom).to.equal(4);
    expect(estimateCapacity({ ...base, streams: 3, idleCores: 0.8, ownCores: 1.2 }).headroom).to.equal(1);
    expect(estimateCapacity({ ...base, streams: 4, idleCores: 0.4, ownCores: 1.6 }).headroom).to.equal(0);
  });

  it('a noisy neighbour takes its share: only what the others leave counts', () => {
    // Others take 1 core (busy 1.6 - own 0.6): 1.7 - 1 - 0.6 = 0.1 left → no room.
    const c = estimateCapacity({ ...base, streams: 1, idleCores: 0.4, ownCores: 0.6, costPerStream: 0.6 });
    expect(c.othersCores).to.equal(1);
    expect(c.headroom).to.equal(0);
    expect(c.availableCores).to.be.closeTo(0.1, 1e-9);
  });

  it('counts admitted streams at their cost before the measurement sees them', () => {
    // Nothing measured yet (idle machine), but 3 streams admitted at 0.4 each.
    expect(estimateCapacity({ ...base, streams: 3 }).headroom).to.equal(1);
  });

  it('WORKER_CONCURRENCY stays the upper bound', () => {
    expect(estimateCapacity({ ...base, costPerStream: 0.1, concurrency: 4, streams: 1 }).headroom).to.equal(3);
  });

  it('a worker without streams takes one, even when the estimate says none fits', () => {
    expect(estimateCapacity({ ...base, costPerStream: 5 }).headroom).to.equal(1);
    expect(estimateCapacity({ ...base, costPerStream: 5, streams: 1 }).headroom).to.equal(0);
    expect(estimateCapacity({ ...base, concurrency: 0 }).headroom).to.equal(0);
  });

  it('a worker shedding load takes nothing', () => {
    expect(estimateCapacity({ ...base, streams: 1, shedding: true }).headroom).to.equal(0);
  });

  it('a stream also costs what it adds to the other processes (RTMP server, relay): learned, counted for each new stream', () => {
    // 1.7 cores after the margin; others 0.3 with 2 streams at 0.4: 0.6 left. At 0.4 a stream
    // that fits once; at 0.4 + 0.25 elsewhere, none.
    const two = { ...base, streams: 2, idleCores: 0.9, ownCores: 0.8 };
    expect(estimateCapacity(two).headroom).to.equal(1);
    const c = estimateCapacity({ ...two, sideCost: 0.25 });
    expect(c.headroom).to.equal(0);
    expect(c.sideCost).to.equal(0.25);
    // Just admitted: the measured others do not show its side cost yet, so it is counted.
    expect(estimateCapacity({ ...base, streams: 1, sideCost: 0.25 }).headroom, '1.7 - 0.4 = 1.3 → 2 more at 0.65').to.equal(2);
    expect(estimateCapacity({ ...base, streams: 1, sideCost: 0.25, unsettled: 1 }).headroom, '1.3 - 0.25 = 1.05 → 1 more').to.equal(1);
  });

  it('paces a burst: while admitted streams have not shown their cost, a new one needs room for as many again', () => {
    // 2 cores, margin 0.25, others 0.1, 0.45 a stream: 1.4 cores, room for 3 at idle.
    const idle = { ...base, margin: 0.25, idleCores: 1.9, costPerStream: 0.45 };
    expect(pacedHeadroom(estimateCapacity(idle), 0)).to.equal(3);
    // One admitted, unmeasured: 0.95 left, 2 fit, 1 of them kept for the unmeasured one.
    expect(pacedHeadroom(estimateCapacity({ ...idle, streams: 1 }), 1)).to.equal(1);
    // Two unmeasured: 0.5 left, 1 fits, not twice: wait for the measurement.
    expect(pacedHeadroom(estimateCapacity({ ...idle, streams: 2 }), 2)).to.equal(0);
    expect(pacedHeadroom(estimateCapacity({ ...idle, streams: 2 }), 0), 'measured: the third fits').to.equal(1);
  });

  it('learns the side cost from settled windows either side of a change in the stream count, bounded by the own cost', () => {
    expect(learnSideCost(null, { streams: 0, others: 0.1 }, { streams: 2, others: 0.3 }, 0.4)).to.be.closeTo(0.1, 1e-9);
    // A stream ended: the others' load fell with it.
    expect(learnSideCost(0.1, { streams: 2, others: 0.3 }, { streams: 1, others: 0.1 }, 0.4, 0.5)).to.be.closeTo(0.15, 1e-9);
    // A neighbour came meanwhile: one sample counts at most the stream's own cost; one that left: 0.
    expect(learnSideCost(null, { streams: 1, others: 0.1 }, { streams: 2, others: 1.5 }, 0.4)).to.be.closeTo(0.4, 1e-9);
    expect(learnSideCost(null, { streams: 1, others: 1.5 }, { streams: 2, others: 0.1 }, 0.4)).to.equal(0);
    expect(learnSideCost(0.2, { streams: 2, others: 0.1 }, { streams: 2, others: 0.9 }, 0.4), 'same count: nothing to learn').to.equal(0.2);
  });

  it('learns the cost per stream from settled full-rate windows only', () => {
    expect(learnCost(null, { ownCores: 1.2, streams: 3, settled: true, shedding: false })).to.be.closeTo(0.4, 1e-9);
    expect(learnCost(0.4, { ownCores: 1.5, streams: 3, settled: true, shedding: false }, 0.5)).to.be.closeTo(0.45, 1e-9);
    expect(learnCost(0.4, { ownCores: 3, streams: 3, settled: false, shedding: false })).to.equal(0.4);
    expect(learnCost(0.4, { ownCores: 0.3, streams: 3, settled: true, shedding: true })).to.equal(0.4);
    expect(learnCost(null, { ownCores: 0.1, streams: 0, settled: true, shedding: false })).to.equal(null);
  });

  it('parses /proc/stat and /proc/<pid>/stat', () => {
    expect(parseProcStat('cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 1 2 3 4\n')).to.deep.equal({ idle: 820, total: 981 });
    expect(parseProcStat('nothing')).to.equal(null);
    // Pinned to CPUs 1 and 2: their own lines, summed.
    const perCpu = 'cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 10 0 0 90 0 0 0 0 0 0\ncpu1 20 0 0 70 10 0 0 0 0 0\ncpu2 30 0 0 60 0 0 0 0 0 0\n';
    expect(parseProcStat(perCpu, [1, 2])).to.deep.equal({ idle: 140, total: 190 });
    expect(parseProcStat(perCpu, [7]), 'no such CPU').to.equal(null);
    expect(parseCpuList('Name:\tnode\nCpus_allowed:\t3\nCpus_allowed_list:\t0-2,4\nMems_allowed_list:\t0\n')).to.deep.equal([0, 1, 2, 4]);
    expect(parseCpuList('Cpus_allowed_list:\t1\n')).to.deep.equal([1]);
    expect(parseCpuList('Cpus_allowed_list:\t3-1\n')).to.equal(null);
    expect(parseCpuList('nothing')).to.equal(null);
    // A command name with spaces and a parenthesis.
    const line = '4242 (ffmpeg (x) 1) S 17 4242 17 0 -1 4194304 100 0 0 0 250 40 0 0 20 0 3 0 123 0 0';
    expect(parsePidStat(line)).to.deep.equal({ ppid: 17, ticks: 290 });
  });
});

describe('shed ladder (issue 13)', () => {
  const nominal = { broadcastFps: 30, previewFps: 15 };

  it('previews first, then the scene effects, then equal broadcast steps 30 → 25 → 20 → 15', () => {
    expect([0, 1, 2, 3, 4, 5].map((l) => ratesAt(l, nominal))).to.deep.equal([
      { renderFps: 30, previewFps: 15, effects: true },
      { renderFps: 30, previewFps: 8, effects: true },
      { renderFps: 30, previewFps: 8, effects: false },
      { renderFps: 25, previewFps: 8, effects: false },
      { renderFps: 20, previewFps: 8, effects: false },
      { renderFps: 15, previewFps: 8, effects: false },
    ]);
    expect(MAX_SHED_LEVEL).to.equal(5);
    expect(ratesAt(99, nominal)).to.deep.equal(ratesAt(MAX_SHED_LEVEL, nominal));
    expect(ratesAt(1, { broadcastFps: 30, previewFps: 1 }).previewFps).to.equal(1);
  });

  it('each level costs less than the one before', () => {
    for (let l = 1; l <= MAX_SHED_LEVEL; l++) expect(costShare(l)).to.be.below(costShare(l - 1));
    expect(costShare(0)).to.equal(1);
  });

  it('describes each level in one line, the steps in the order they were taken', () => {
    expect([0, 1, 2, 3, 5].map((l) => describeLevel(l, { broadcastFps: 30, previewFps: 10 }))).to.deep.equal([
      'full rate',
      'previews at 5 fps',
      'scene effects off, previews at 5 fps',
      'broadcast rendered at 25 fps (declared 30), scene effects off, previews at 5 fps',
      'broadcast rendered at 15 fps (declared 30), scene effects off, previews at 5 fps',
    ]);
  });

  const calm: ShedState = { level: 0, changedAt: 0, calmSince: null };
  const input = { now: 100_000, dropRatio: 0, spareCores: 1, streamsCores: 1.2, streams: 3 };

  it('sheds one step at a time while frames drop, waiting for each step to show', () => {
    let s = nextShed(calm, { ...input, dropRatio: 0.1 });
    expect(s.level).to.equal(1);
    // Too soon for the next step.
    s = nextShed(s, { ...input, now: input.now + 1000, dropRatio: 0.1 });
    expect(s.level).to.equal(1);
    s = nextShed(s, { ...input, now: input.now + SHED_TUNING.holdMs, dropRatio: 0.1 });
    expect(s.level).to.equal(2);
    let t = input.now + SHED_TUNING.holdMs;
    for (let i = 0; i < 10; i++) s = nextShed(s, { ...input, now: (t += SHED_TUNING.holdMs), dropRatio: 0.1 });
    expect(s.level).to.equal(MAX_SHED_LEVEL);
  });

  it('restores in reverse once the streams are fine and the CPU for the step is there', () => {
    let s: ShedState = { level: 3, changedAt: 0, calmSince: null };
    let t = input.now;
    s = nextShed(s, { ...input, now: t });
    expect(s.level).to.equal(3);
    expect(s.calmSince).to.equal(t);
    s = nextShed(s, { ...input, now: (t += SHED_TUNING.restoreAfterMs) });
    expect(s.level).to.equal(2);
    // No idle CPU for the next step (a greedy neighbour): it waits for the probe, not the restore delay.
    s = nextShed(s, { ...input, spareCores: 0, now: (t += 1000) });
    s = nextShed(s, { ...input, spareCores: 0, now: (t += SHED_TUNING.restoreAfterMs) });
    expect(s.level).to.equal(2);
    s = nextShed(s, { ...input, spareCores: 0, now: (t += SHED_TUNING.probeMs) });
    expect(s.level).to.equal(1);
    // The probe fails (frames drop at once): shed again, and the next probe waits twice as long.
    s = nextShed(s, { ...input, dropRatio: 0.1, now: (t += SHED_TUNING.holdMs) });
    expect(s.level).to.equal(2);
    expect(s.probeMs).to.equal(2 * SHED_TUNING.probeMs);
    // Drops reset the calm.
    s = nextShed(s, { ...input, spareCores: 0, now: (t += 1000) });
    s = nextShed(s, { ...input, spareCores: 0, dropRatio: 0.01, now: (t += 1000) });
    expect(s.calmSince).to.equal(null);
    s = nextShed(s, { ...input, spareCores: 0, now: (t += 1000) });
    s = nextShed(s, { ...input, spareCores: 0, now: (t += SHED_TUNING.probeMs) });
    expect(s.level, 'still within the doubled probe').to.equal(2);
    s = nextShed(s, { ...input, spareCores: 0, now: (t += SHED_TUNING.probeMs) });
    expect(s.level).to.equal(1);
    // With idle CPU it goes on after the short delay.
    s = nextShed(s, { ...input, now: (t += SHED_TUNING.holdMs) });
    s = nextShed(s, { ...input, now: (t += SHED_TUNING.restoreAfterMs) });
    expect(s.level).to.equal(0);
  });

  it('restores faster when the idle CPU covers the step twice over', () => {
    // At level 3 the next step costs ~0.15 cores here.
    const at3: ShedState = { level: 3, changedAt: 0, calmSince: null };
    let s = nextShed(at3, { ...input, spareCores: 0.2 });
    s = nextShed(s, { ...input, spareCores: 0.2, now: input.now + SHED_TUNING.restoreFastMs });
    expect(s.level, 'covered once: the normal delay').to.equal(3);
    s = nextShed(s, { ...input, spareCores: 0.2, now: input.now + SHED_TUNING.restoreAfterMs });
    expect(s.level).to.equal(2);
    s = nextShed(at3, { ...input, spareCores: 0.4 });
    s = nextShed(s, { ...input, spareCores: 0.4, now: input.now + SHED_TUNING.restoreFastMs });
    expect(s.level, 'covered twice: the short delay').to.equal(2);
  });

  it('no streams: back to full rate', () => {
    expect(nextShed({ level: 3, changedAt: 0, calmSince: null }, { ...input, streams: 0 }).level).to.equal(0);
  });
});

describe('rebalancing decision (issue 13)', () => {
  const grace = 30_000;
  const streams = [{ streamKey: 'old', since: 1000 }, { streamKey: 'newest', since: 5000 }, { streamKey: 'mid', since: 3000 }];
  const others = [{ id: 'w-full', headroom: 0, shedLevel: 0 }, { id: 'w-room', headroom: 2, shedLevel: 0 }];
  const input = (over: Partial<RebalanceInput>): RebalanceInput => ({ now: 100_000, graceMs: grace, over: true, streams, others, ...over });

  it('hands the newest stream to a worker with room once the worker has been over its headroom for the grace period', () => {
    let d = decideRebalance(IDLE_REBALANCE, input({}));
    expect(d.handover).to.equal(null);
    expect(d.state.overSince).to.equal(100_000);
    d = decideRebalance(d.state, input({ now: 100_000 + grace - 1 }));
    expect(d.handover, 'not before the grace').to.equal(null);
    d = decideRebalance(d.state, input({ now: 100_000 + grace }));
    expect(d.handover).to.deep.equal({ streamKey: 'newest', to: 'w-room', overMs: grace });
  });

  it('a break in the pressure starts the grace again', () => {
    let d = decideRebalance(IDLE_REBALANCE, input({}));
    d = decideRebalance(d.state, input({ now: 120_000, over: false }));
    expect(d.state.overSince).to.equal(null);
    d = decideRebalance(d.state, input({ now: 125_000 }));
    d = decideRebalance(d.state, input({ now: 140_000 }));
    expect(d.handover).to.equal(null);
    expect(decideRebalance(d.state, input({ now: 125_000 + grace })).handover?.streamKey).to.equal('newest');
  });

  it('only when another worker advertises room and sheds nothing itself', () => {
    const long = { overSince: 0, lastAt: 0 };
    expect(decideRebalance(long, input({ others: [] })).handover).to.equal(null);
    expect(decideRebalance(long, input({ others: [{ id: 'w-full', headroom: 0, shedLevel: 0 }] })).handover).to.equal(null);
    expect(decideRebalance(long, input({ others: [{ id: 'w-busy', headroom: 3, shedLevel: 1 }] })).handover).to.equal(null);
    // The most room wins; the pressure goes on meanwhile (its time is kept).
    const d = decideRebalance(long, input({ others: [{ id: 'w-a', headroom: 1, shedLevel: 0 }, { id: 'w-b', headroom: 3, shedLevel: 0 }] }));
    expect(d.handover?.to).to.equal('w-b');
    expect(decideRebalance(long, input({ others: [] })).state).to.equal(long);
  });

  it('at most one handover per grace period, whatever the pressure', () => {
    let d = decideRebalance({ overSince: 0, lastAt: 0 }, input({}));
    expect(d.handover?.streamKey).to.equal('newest');
    expect(d.state).to.deep.equal({ overSince: 100_000, lastAt: 100_000 });
    d = decideRebalance(d.state, input({ now: 100_000 + grace - 1, streams: streams.slice(0, 2) }));
    expect(d.handover).to.equal(null);
    d = decideRebalance(d.state, input({ now: 100_000 + grace, streams: [streams[0], streams[2]] }));
    expect(d.handover?.streamKey).to.equal('mid');
  });

  it('never with no streams, and never with a grace of 0 (REBALANCE_GRACE_SECONDS=0: off)', () => {
    expect(decideRebalance({ overSince: 0, lastAt: 0 }, input({ streams: [] })).handover).to.equal(null);
    expect(decideRebalance({ overSince: 0, lastAt: 0 }, input({ graceMs: 0 })).handover).to.equal(null);
  });
});

describe('worker load metrics (issue 13)', () => {
  it('headroom, CPU available, cost, shed level and the refusal and shed-step counts, by worker', async () => {
    const { trackWorker } = await import('../src/metrics/sources.js');
    const { registry } = await import('../src/metrics/registry.js');
    const { sample } = await import('./helpers/metrics.js');
    const snap = { headroom: 2, cpuAvailable: -0.25, costPerStream: 0.4, shedLevel: 3 };
    const off = trackWorker({ workerId: 'w-test', snapshot: () => snap, counts: { refused: 5, shedUp: 3, shedDown: 1, handovers: 2 } });
    try {
      const text = await registry.metrics();
      expect(sample(text, 'sf_worker_headroom_streams', { worker: 'w-test' })).to.equal(2);
      expect(sample(text, 'sf_worker_cpu_available_cores', { worker: 'w-test' })).to.equal(-0.25);
      expect(sample(text, 'sf_worker_stream_cost_cores', { worker: 'w-test' })).to.equal(0.4);
      expect(sample(text, 'sf_worker_shed_level', { worker: 'w-test' })).to.equal(3);
      expect(sample(text, 'sf_worker_shed_steps_total', { worker: 'w-test', direction: 'up' })).to.equal(3);
      expect(sample(text, 'sf_worker_shed_steps_total', { worker: 'w-test', direction: 'down' })).to.equal(1);
      expect(sample(text, 'sf_admission_refused_total', { worker: 'w-test' })).to.equal(5);
      expect(sample(text, 'sf_worker_handovers_total', { worker: 'w-test' })).to.equal(2);
    } finally {
      off();
    }
    expect(sample(await registry.metrics(), 'sf_worker_headroom_streams', { worker: 'w-test' })).to.equal(undefined);
  });
});

describe('render rate hook (issue 13: RenderPipeline.setRates)', function () {
  this.timeout(30_000);
  it('hands the scene its optional effects on, then off, then on again', async () => {
    const { RenderPipeline } = await import('../src/render/pipeline.js');
    const seen: Array<boolean | undefined> = [];
    const p = new RenderPipeline({
      streamKey: 'effects',
      scene: { id: 'probe', description: 'records info.effects', draw: (_ctx, info) => void seen.push(info.effects) },
      startedMs: Date.now(),
      preview: { fps: 5, quality: 50, width: 32, height: 18 },
      broadcast: { fps: 30, width: 64, height: 36, sink: { writeFrame: () => true } },
      onPreview: () => {},
    });
    const next = async (n: number) => {
      const target = seen.length + n;
      while (seen.length < target) await new Promise((r) => setTimeout(r, 10));
      return seen.slice(target - n, target);
    };
    p.start();
    try {
      expect(await next(3)).to.deep.equal([true, true, true]);
      p.setRates({ renderFps: 30, previewFps: 5, effects: false });
      expect(await next(3)).to.deep.equal([false, false, false]);
      p.setRates({ renderFps: 30, previewFps: 5 });
      expect(await next(3), 'absent: unchanged').to.deep.equal([false, false, false]);
      p.setRates({ renderFps: 30, previewFps: 5, effects: true });
      expect(await next(3)).to.deep.equal([true, true, true]);
    } finally {
      p.stop();
    }
  });

  it('renders fewer frames and repeats the last one, keeping the declared rate; back to every frame when restored', async () => {
    const { RenderPipeline } = await import('../src/render/pipeline.js');
    const { getScene } = await import('../src/render/scenes/index.js');
    const writes: Buffer[] = [];
    let previews = 0;
    const p = new RenderPipeline({
      streamKey: 'rates',
      scene: getScene('testcard')!,
      startedMs: Date.now(),
      preview: { fps: 10, quality: 50, width: 160, height: 90 },
      broadcast: { fps: 30, width: 320, height: 180, sink: { writeFrame: (b) => (writes.push(b), true) } },
      onPreview: () => void (previews += 1),
    });
    const waitWrites = async (n: number) => {
      const target = writes.length + n;
      while (writes.length < target) await new Promise((r) => setTimeout(r, 20));
      return writes.slice(target - n, target);
    };
    p.start();
    try {
      const full = await waitWrites(20);
      expect(new Set(full).size, 'every frame rendered').to.equal(20);
      p.setRates({ renderFps: 15, previewFps: 2 });
      await waitWrites(2);
      const shed = await waitWrites(40);
      const unique = new Set(shed).size;
      expect(unique, `${unique} rendered of 40 sent`).to.be.below(40).and.at.least(1);
      expect(shed.every((b) => b.length === 320 * 180 * 4)).to.equal(true);
      p.setRates({ renderFps: 30, previewFps: 10 });
      await waitWrites(2);
      expect(new Set(await waitWrites(20)).size, 'every frame rendered again').to.equal(20);
      expect(previews).to.be.above(0);
    } finally {
      p.stop();
    }
  });
});
