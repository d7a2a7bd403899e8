// A dependency that drops the connection is 503 with Retry-After, never 500: errors taken
// from a real PostgreSQL (a backend terminated mid-query: SQLSTATE 57P01; a refused
// connection) answered through the service's one error handler.
import express from 'express';
import pg from 'pg';
import request from 'supertest';
import { expect } from 'chai';
import { errorHandler } from '../../src/errors.js';
import { TEST_DATABASE_URL } from '../helpers/databases.js';

function appThrowing(err: unknown) {
  const app = express();
  app.get('/x', () => {
    throw err;
  });
  app.use(errorHandler);
  return app;
}

async function terminatedMidQuery(): Promise<unknown> {
  const victim = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const killer = new pg.Client({ connectionString: TEST_DATABASE_URL });
  victim.on('error', () => {});
  await victim.connect();
  await killer.connect();
  const pid = (await victim.query('select pg_backend_pid() as pid')).rows[0].pid;
  const running = victim.query('select pg_sleep(10)').then(
    () => null,
    (err) => err,
  );
  await new Promise((r) => setTimeout(r, 200));
  await killer.query('select pg_terminate_backend($1)', [pid]);
  const err = await running;
  await killer.end();
  await victim.end().catch(() => {});
  return err;
}

describe('security: a dependency that drops the connection is 503', function () {
  this.timeout(30_000);

  it('answers 503 + Retry-After to PostgreSQL terminating the connection (57P01)', async () => {
    const err = (await terminatedMidQuery()) as { code?: string; message: string };
    expect(err, 'the query failed').to.be.an('error');
    expect(err.code).to.equal('57P01');
    const res = await request(appThrowing(err)).get('/x');
    expect(res.status).to.equal(503);
    expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
    expect(res.body.error).to.equal('unavailable');
  });

  it('answers 503 to a refused connection and to a connection lost without a code', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
    const refused = await pool.query('select 1').catch((e) => e);
    await pool.end();
    for (const err of [refused, new Error('Connection terminated unexpectedly'), Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), Object.assign(new Error('x'), { code: '08006' })]) {
      const res = await request(appThrowing(err)).get('/x');
      expect(res.status, String(err)).to.equal(503);
      expect(res.headers['retry-after']).to.be.a('string');
    }
  });

  it('still answers 500 to a real bug (and says nothing more)', async () => {
    const res = await request(appThrowing(new TypeError('x is not a function'))).get('/x');
    expect(res.status).to.equal(500);
    expect(res.body).to.deep.equal({ error: 'internal_error', message: 'internal error' });
  });
});
