// The database layer against real PostgreSQL and embedded PGlite: migrations (empty, already
// migrated, two at once), the sessions record, and the embedded server's own rules.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { migrate, openDatabase, SessionRepository } from '../src/db/index.js';
import { DATABASE_KINDS, type TestDatabase } from './helpers/databases.js';

const tables = async (pool: pg.Pool) =>
  (
    await pool.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`,
    )
  ).rows.map((r) => r.t);

for (const kind of DATABASE_KINDS) {
  describe(`database (${kind.name})`, function () {
    this.timeout(60_000);
    let t: TestDatabase;

    before(async () => {
      t = await kind.open();
    });
    after(async () => {
      await t?.cleanup();
    });

    it('reports what it is', () => {
      expect(t.db.embedded).to.equal(kind.embedded);
      expect(t.db.url).to.match(/^postgres:\/\//);
    });

    it('migrates an empty database, then finds nothing to do', async () => {
      expect(await tables(t.db.pool)).to.deep.equal([]);
      const { migrations } = await import('../src/db/migrations.js');
      expect(await migrate(t.db.pool)).to.deep.equal(migrations.map((m) => m.id));
      expect(await tables(t.db.pool)).to.include.members(['poll_queue', 'polls', 'schema_migrations', 'stream_sessions', 'votes']);
      expect(await migrate(t.db.pool)).to.deep.equal([]);
      const { rows } = await t.db.pool.query('SELECT id, name FROM schema_migrations ORDER BY id');
      expect(rows).to.deep.equal(migrations.map((m) => ({ id: m.id, name: m.name })));
    });

    it('applies only the new migrations on an already-migrated database', async () => {
      const extra = [{ id: 1002, name: 'test_extra', sql: 'CREATE TABLE test_extra (x int)' }];
      const { migrations } = await import('../src/db/migrations.js');
      expect(await migrate(t.db.pool, [...migrations, ...extra])).to.deep.equal([1002]);
      expect(await migrate(t.db.pool, [...migrations, ...extra])).to.deep.equal([]);
      await t.db.pool.query('DROP TABLE test_extra');
      await t.db.pool.query('DELETE FROM schema_migrations WHERE id = 1002');
    });

    it('rolls back a failing migration entirely', async () => {
      const bad = [
        { id: 1003, name: 'half', sql: 'CREATE TABLE half_done (x int)' },
        { id: 1004, name: 'broken', sql: 'CREATE TABLE broken (x nosuchtype)' },
      ];
      const { migrations } = await import('../src/db/migrations.js');
      let err: unknown;
      try {
        await migrate(t.db.pool, [...migrations, ...bad]);
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/nosuchtype/);
      expect(await tables(t.db.pool)).to.not.include('half_done');
      const { rows } = await t.db.pool.query('SELECT max(id) AS m FROM schema_migrations');
      expect(rows[0].m).to.equal(Math.max(...migrations.map((m) => m.id)));
    });

    it('survives two migrate() calls at once on an empty database (two processes starting)', async () => {
      const fresh = await kind.open();
      try {
        // A second process is a second pool (for PGlite: connected to the embedded server's URL).
        const other = await fresh.openAnother();
        const results = await Promise.all([migrate(fresh.db.pool), migrate(other.pool), migrate(fresh.db.pool)]);
        const { migrations } = await import('../src/db/migrations.js');
        expect(results.map((r) => r.length).sort()).to.deep.equal([0, 0, migrations.length]);
        expect(await tables(fresh.db.pool)).to.include.members(['polls', 'votes', 'stream_sessions']);
      } finally {
        await fresh.cleanup();
      }
    });

    it('enforces one vote per voter per poll and one open poll', async () => {
      const { rows } = await t.db.pool.query(`INSERT INTO polls (question, options) VALUES ('q', '[]') RETURNING id`);
      const id = rows[0].id;
      await t.db.pool.query(`INSERT INTO votes (poll_id, voter_id, option) VALUES ($1, 'v', 'A')`, [id]);
      let err: any;
      try {
        await t.db.pool.query(`INSERT INTO votes (poll_id, voter_id, option) VALUES ($1, 'v', 'B')`, [id]);
      } catch (e) {
        err = e;
      }
      expect(err?.code).to.equal('23505');
      err = undefined;
      try {
        await t.db.pool.query(`INSERT INTO polls (question, options) VALUES ('q2', '[]')`);
      } catch (e) {
        err = e;
      }
      expect(err?.code).to.equal('23505');
      await t.db.pool.query('DELETE FROM polls WHERE id = $1', [id]);
    });

    it('records stream sessions with their stop reason', async () => {
      const repo = new SessionRepository(t.db.pool);
      const startedAt = new Date(Date.now() - 60_000);
      const id = await repo.recordSessionStart({ streamKey: 'key-1', screenId: 'poll', taskId: 'job-7', startedAt });
      expect(id).to.be.a('number');
      let s = await repo.getSession(id);
      expect(s).to.include({ streamKey: 'key-1', screenId: 'poll', taskId: 'job-7', stopReason: null, frames: 0 });
      expect(s!.startedAt.getTime()).to.equal(startedAt.getTime());
      expect(s!.stoppedAt).to.equal(null);

      expect(await repo.recordSessionEnd(id, { stopReason: 'ffmpeg_failed', frames: 1800, dropped: 3, restarts: 5, lastError: 'Connection refused' })).to.equal(true);
      // A second end (a retried job, a double shutdown) does not overwrite the first.
      expect(await repo.recordSessionEnd(id, { stopReason: 'requested' })).to.equal(false);
      s = await repo.getSession(id);
      expect(s).to.include({ stopReason: 'ffmpeg_failed', frames: 1800, dropped: 3, restarts: 5, lastError: 'Connection refused' });
      expect(s!.stoppedAt).to.be.instanceOf(Date);

      const id2 = await repo.recordSessionStart({ streamKey: 'key-2', screenId: 'testcard' });
      await repo.recordSessionEnd(id2, { stopReason: 'requested', frames: 10 });
      const list = await repo.listSessions({ streamKey: 'key-1' });
      expect(list.map((x) => x.id)).to.deep.equal([id]);
      expect((await repo.listSessions()).map((x) => x.id)).to.include.members([id, id2]);
      expect(await repo.getSession(999_999)).to.equal(null);
    });

    it('keeps the data across a restart', async () => {
      const repo = new SessionRepository(t.db.pool);
      const id = await repo.recordSessionStart({ streamKey: 'persist', screenId: 'poll' });
      const db = await t.reopen();
      expect((await new SessionRepository(db.pool).getSession(id))?.streamKey).to.equal('persist');
      expect(await migrate(db.pool)).to.deep.equal([]);
    });
  });
}

describe('embedded database (PGlite) rules', function () {
  this.timeout(60_000);

  it('refuses a second open of the same data directory, and frees it on close', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-pglite-'));
    try {
      const db = await openDatabase({ dataDir });
      expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).to.equal(true);
      let err: unknown;
      try {
        await openDatabase({ dataDir });
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/already open/);
      await db.close();
      await db.close(); // twice is fine
      expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).to.equal(false);
      const again = await openDatabase({ dataDir });
      await again.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names the live process that holds the data directory', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-pglite-'));
    try {
      // PID 1 is always alive: pretend it owns the directory.
      fs.writeFileSync(path.join(dataDir, 'pglite.lock'), JSON.stringify({ pid: 1, url: 'postgres://postgres@127.0.0.1:1/postgres' }));
      let err: unknown;
      try {
        await openDatabase({ dataDir });
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/in use by process 1; point this process at it with DATABASE_URL=postgres:/);
      // A lock left by a dead process is taken over.
      fs.writeFileSync(path.join(dataDir, 'pglite.lock'), JSON.stringify({ pid: 2 ** 22 + 12345 }));
      const db = await openDatabase({ dataDir });
      await db.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves several clients without mixing their queries, errors or transactions', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-pglite-'));
    const db = await openDatabase({ dataDir });
    // pglite-socket's own server mixes concurrent extended-protocol queries; ours must not.
    const pool = new pg.Pool({ connectionString: db.url, max: 8 });
    try {
      await pool.query('CREATE TABLE t (v int)');
      let wrong = 0;
      await Promise.all(
        Array.from({ length: 800 }, async (_, i) => {
          if (i % 4 === 0) {
            if ((await pool.query('SELECT $1::int AS v', [i])).rows[0].v !== i) wrong++;
          } else if (i % 4 === 1) {
            const r = await pool.query('SELECT $1::text AS s, $2::int AS n, $3::int AS m', [`x${i}`, i, i + 1]);
            if (r.rows[0].s !== `x${i}` || r.rows[0].m !== i + 1) wrong++;
          } else if (i % 4 === 2) {
            // An error (the pool then replaces that client) must not disturb anyone else.
            const err = await pool.query('SELECT 1 / $1::int', [0]).then(() => null, (e) => e);
            if (err?.code !== '22012') wrong++;
          } else {
            const c = await pool.connect();
            try {
              await c.query('BEGIN');
              await c.query('INSERT INTO t VALUES ($1)', [i]);
              await c.query(i % 8 === 3 ? 'ROLLBACK' : 'COMMIT');
            } finally {
              c.release();
            }
          }
        }),
      );
      expect(wrong).to.equal(0);
      expect((await pool.query('SELECT count(*)::int AS n FROM t')).rows[0].n).to.equal(100);

      // A client that dies inside a transaction: its work is rolled back, others go on.
      const c = new pg.Client({ connectionString: db.url });
      c.on('error', () => undefined);
      await c.connect();
      await c.query('BEGIN');
      await c.query('INSERT INTO t VALUES (-1)');
      const waiting = pool.query('SELECT count(*)::int AS n FROM t WHERE v = -1');
      (c as any).connection.stream.destroy();
      expect((await waiting).rows[0].n).to.equal(0);
    } finally {
      await pool.end();
      await db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps a committed row when its process is killed (SIGKILL) right after the commit', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-pglite-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'helpers', 'pglite-child.ts'), dataDir], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, LOG_LEVEL: 'warn' },
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => String(d).includes('committed') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited (${code}) before committing`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // Its lock names a dead process, so we may take the directory over; the row is there.
      const db = await openDatabase({ dataDir });
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM stream_sessions WHERE stream_key = 'crash'`);
      await db.close();
      expect(rows[0].n).to.equal(1);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reports an unreachable server clearly', async () => {
    let err: unknown;
    try {
      await openDatabase({ databaseUrl: 'postgres://postgres:secret@127.0.0.1:1/nope', dataDir: os.tmpdir() });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/cannot reach the database at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nope/);
    expect(String(err)).to.not.include('secret');
  });
});
