// Applies the pending migrations in one transaction. Safe with several processes starting at
// once: a transaction-scoped advisory lock (per schema) serialises them, and the loser finds
// everything applied. PGlite has advisory locks too, and its socket server runs a transaction
// on one connection at a time anyway.
import type pg from 'pg';
import { log } from '../logger.js';
import { migrations as allMigrations, type Migration } from './migrations.js';

const logger = log('DB');

export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = allMigrations): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('stream-fighter:migrate:' || current_schema()))`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        id         integer PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ id: number }>('SELECT id FROM schema_migrations');
    const done = new Set(rows.map((r) => r.id));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.id - b.id)) {
      if (done.has(m.id)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
      applied.push(m.id);
    }
    await client.query('COMMIT');
    if (applied.length) logger.info(`applied migrations ${applied.join(', ')}`);
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
