// Vote stuffing from one address with every trick adds at most its budget; 200 voters at
// distinct addresses each count once; control calls and socket connections have budgets;
// over budget is 429 + Retry-After, said once per address and minute.
import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { io as connect, type Socket } from 'socket.io-client';
import { startSecStack, captureLog, type SecStack } from './harness.js';

const ATTACKER = '203.0.113.66';

function socketFrom(url: string, address: string, extra: Record<string, unknown> = {}): Socket {
  return connect(url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { 'x-forwarded-for': address }, ...extra });
}

/** Connects, votes once, disconnects: what a script that reconnects for every vote does. */
async function socketVote(url: string, address: string, option: string): Promise<'counted' | string> {
  const sock = socketFrom(url, address);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('connect_error', (err) => reject(err));
    });
    const res = (await sock.timeout(10_000).emitWithAck('vote:cast', { option })) as { ok: boolean; error?: { code: string } };
    return res.ok ? 'counted' : res.error!.code;
  } catch (err) {
    return `connect_error: ${(err as Error).message}`;
  } finally {
    sock.disconnect();
  }
}

describe('security: budgets', function () {
  this.timeout(180_000);
  let s: SecStack;
  const total = async () => (await request(s.url).get('/api/poll')).body.total as number;

  before(async () => {
    s = await startSecStack({
      TRUST_PROXY: 'loopback',
      LIMIT_VOTES_PER_POLL: '20',
      LIMIT_NEW_VOTERS_PER_HOUR: '60',
      LIMIT_CONTROL_PER_MINUTE: '5',
      LIMIT_SOCKETS_PER_MINUTE: '120',
    });
    // A poll with known options (the one opened at start-up may have two).
    await s.role.polls.generate({ draft: { question: 'Budgets?', options: ['Ryu', 'Ken', 'Chun-Li', 'Akuma'] } });
  });
  after(async () => s?.close());

  it('one address trying 1,000 votes with every trick gets at most its 20 counted', async () => {
    const log = captureLog();
    const outcomes: Record<string, Record<string, number>> = {};
    const note = (trick: string, what: string | number) => {
      outcomes[trick] ??= {};
      outcomes[trick][what] = (outcomes[trick][what] ?? 0) + 1;
    };
    let retryAfter: string | undefined;
    try {
      for (let i = 0; i < 250; i++) {
        const r = await request(s.url).post('/api/vote').set('x-forwarded-for', ATTACKER).send({ option: 'A', voterId: `made-up-${i}` });
        note('new ids', r.status);
      }
      for (let i = 0; i < 250; i++) {
        const r = await request(s.url).post('/api/vote').set('x-forwarded-for', ATTACKER).send({ option: 'B' });
        note('no cookie', r.status);
        if (r.status === 429) retryAfter ??= r.headers['retry-after'];
      }
      for (let i = 0; i < 250; i++) {
        const fake = `${crypto.randomBytes(15).toString('base64url')}.${crypto.randomBytes(20).toString('base64url').slice(0, 27)}`;
        const r = await request(s.url).post('/api/vote').set('x-forwarded-for', ATTACKER).set('cookie', `sf_voter=${fake}`).send({ option: 'C' });
        note('new cookies', r.status);
      }
      for (let i = 0; i < 250; i++) note('reconnecting sockets', (await socketVote(s.url, ATTACKER, 'A')).replace(/:.*/, ''));
    } finally {
      log.stop();
    }
    expect(await total(), JSON.stringify(outcomes)).to.equal(20);
    expect(outcomes['new ids']).to.deep.equal({ 403: 250 });
    expect(outcomes['no cookie'][200]).to.equal(20);
    expect(outcomes['new cookies'][200] ?? 0).to.equal(0);
    expect(outcomes['reconnecting sockets'].counted ?? 0).to.equal(0);
    expect(Number(retryAfter)).to.be.greaterThan(0);
    // Said once per address and budget, not once per refusal.
    const said = log.lines.filter((l) => l.includes('over budget') && l.includes(ATTACKER));
    const budgets = new Set(said.map((l) => /its \d+ (.*?) from/.exec(l)?.[1]));
    expect(said.length, said.join('\n')).to.equal(budgets.size);
    expect(said.length).to.be.within(1, 3);
  });

  it('200 voters at distinct addresses (100 REST, 100 socket.io) each count once', async () => {
    const start = await total();
    const rest = await Promise.all(
      Array.from({ length: 100 }, (_, i) => request(s.url).post('/api/vote').set('x-forwarded-for', `10.1.0.${i + 1}`).send({ option: 'ABC'[i % 3] })),
    );
    expect(rest.map((r) => r.status).filter((st) => st !== 200)).to.deep.equal([]);
    const sockets: string[] = [];
    for (let batch = 0; batch < 100; batch += 20) {
      sockets.push(...(await Promise.all(Array.from({ length: 20 }, (_, j) => socketVote(s.url, `10.2.0.${batch + j + 1}`, 'ABC'[j % 3])))));
    }
    expect(sockets.filter((r) => r !== 'counted')).to.deep.equal([]);
    expect(await total()).to.equal(start + 200);
  });

  it('gives each address a budget of control calls (429 + Retry-After)', async () => {
    const statuses: number[] = [];
    let retry: string | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await request(s.url).post('/stream/stop').set('x-forwarded-for', '198.51.100.7').send({});
      statuses.push(r.status);
      if (r.status === 429) retry = r.headers['retry-after'];
    }
    expect(statuses.slice(0, 5).every((st) => st !== 429), String(statuses)).to.equal(true);
    expect(statuses.slice(5)).to.deep.equal([429, 429, 429]);
    expect(Number(retry)).to.be.within(1, 60);
    // Another address has its own budget.
    expect((await request(s.url).post('/stream/stop').set('x-forwarded-for', '198.51.100.8').send({})).status).to.not.equal(429);
  });

  it('gives each address a budget of socket.io connections (connect_error rate_limited)', async () => {
    const results: string[] = [];
    for (let i = 0; i < 125; i++) {
      const sock = socketFrom(s.url, '198.51.100.20');
      results.push(
        await new Promise<string>((resolve) => {
          sock.once('connect', () => resolve('connected'));
          sock.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data?.code ?? err.message));
        }),
      );
      sock.disconnect();
    }
    expect(results.filter((r) => r === 'connected')).to.have.length(120);
    expect(results.slice(120)).to.deep.equal(Array(5).fill('rate_limited'));
  });
});
