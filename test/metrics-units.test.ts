// The pure parts of src/metrics and the OpenAPI builder: rates at scrape time, vote results,
// destination labels without keys, one queue counted once, the document's shape.
import { expect } from 'chai';
import { RateSampler } from '../src/metrics/rates.js';
import { voteResult, countVote } from '../src/metrics/instrument.js';
import { destinationLabel, sources, trackQueues } from '../src/metrics/sources.js';
import { registry } from '../src/metrics/registry.js';
import { badRequest, conflict, notFound } from '../src/errors.js';
import { openApiDocument } from '../src/api-docs/spec.js';
import { sample } from './helpers/metrics.js';

describe('metrics units', () => {
  it('RateSampler: rate over the window, anchored on an older reading when scrapes are sparse', () => {
    const r = new RateSampler(5000);
    expect(r.sample(0, 0)).to.equal(0);
    expect(r.sample(30, 1000)).to.equal(30);
    expect(r.sample(60, 2000)).to.equal(30);
    // 15 s later: the rate since the previous reading.
    expect(r.sample(510, 17_000)).to.equal(30);
    // A counter that went back (a new stream under the same source) is no negative rate.
    expect(r.sample(0, 18_000)).to.equal(0);
  });

  it('voteResult: the label of each outcome', () => {
    expect(voteResult(null)).to.equal('accepted');
    expect(voteResult(conflict('x', { reason: 'already_voted' }))).to.equal('duplicate');
    expect(voteResult(conflict('x', { reason: 'poll_closed' }))).to.equal('closed');
    expect(voteResult(notFound())).to.equal('no_poll');
    expect(voteResult(badRequest('x'))).to.equal('invalid');
    expect(voteResult(new Error('redis down'))).to.equal('error');
  });

  it('countVote counts and passes the outcome through unchanged', async () => {
    const before = sample(await registry.metrics(), 'sf_votes_total', { result: 'invalid' }) ?? 0;
    expect(await countVote(Promise.resolve(7))).to.equal(7);
    const err = badRequest('nope');
    let caught: unknown;
    await countVote(Promise.reject(err)).catch((e) => (caught = e));
    expect(caught).to.equal(err);
    expect(sample(await registry.metrics(), 'sf_votes_total', { result: 'invalid' })).to.equal(before + 1);
  });

  it('destinationLabel: the host only, never the path with the key', () => {
    expect(destinationLabel('rtmp://live.example.com:1935/app/secret-key')).to.equal('live.example.com:1935');
    expect(destinationLabel('not a url')).to.equal('rtmp');
    expect(destinationLabel(undefined)).to.equal('none');
  });

  it('trackQueues: a queue name held by two roles of one process is counted once', () => {
    const q = { name: 'unit-queue' } as never;
    const undoA = trackQueues({ a: q });
    const undoB = trackQueues({ b: q });
    expect([...sources.queues.keys()].filter((n) => n === 'unit-queue')).to.have.length(1);
    undoB();
    expect(sources.queues.has('unit-queue')).to.equal(true);
    undoA();
    expect(sources.queues.has('unit-queue')).to.equal(false);
  });

  it('the OpenAPI document: 3.1, path templates, token-guarded operations, input schemas with defaults optional', () => {
    const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, any>> };
    expect(doc.openapi).to.equal('3.1.0');
    expect(doc.paths).to.have.property('/api/polls/{id}');
    expect(doc.paths['/stream/start'].post.security).to.deep.equal([{ bearer: [] }]);
    expect(doc.paths['/stream/status'].get.security).to.equal(undefined);
    const body = doc.paths['/stream/start'].post.requestBody.content['application/json'].schema;
    expect(body.required ?? []).to.not.include('fps');
    expect(body.properties.fps).to.include({ type: 'integer', minimum: 1, maximum: 60, default: 15 });
    const q = doc.paths['/api/sessions'].get.parameters.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required]);
    expect(q).to.deep.equal([['streamKey', 'query', false], ['limit', 'query', false], ['offset', 'query', false]]);
  });
});
