// The two databases the db and poll suites run against: the real PostgreSQL (a schema of its
// own per run, dropped after, so parallel runs never meet) and embedded PGlite (a temp dir).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/index.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  db: Database;
  /** Closes this database and opens the same data again (a process restart). */
  reopen(): Promise<Database>;
  /** A second, independent connection pool to the same data (another process). */
  openAnother(): Promise<Database>;
  cleanup(): Promise<void>;
}

export interface DatabaseKind {
  name: string;
  embedded: boolean;
  open(): Promise<TestDatabase>;
}

function schemaUrl(base: string, schema: string): string {
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function openPostgres(): Promise<TestDatabase> {
  const schema = `sf_t_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = schemaUrl(TEST_DATABASE_URL, schema);
  const others: Database[] = [];
  const handle: TestDatabase = {
    db: await openDatabase({ databaseUrl: url, dataDir: os.tmpdir() }),
    async reopen() {
      await handle.db.close();
      handle.db = await openDatabase({ databaseUrl: url, dataDir: os.tmpdir() });
      return handle.db;
    },
    async openAnother() {
      const d = await openDatabase({ databaseUrl: url, dataDir: os.tmpdir() });
      others.push(d);
      return d;
    },
    async cleanup() {
      await handle.db.close();
      for (const d of others) await d.close();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
  return handle;
}

async function openPglite(): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-pglite-'));
  const others: Database[] = [];
  const handle: TestDatabase = {
    db: await openDatabase({ dataDir }),
    async reopen() {
      await handle.db.close();
      handle.db = await openDatabase({ dataDir });
      return handle.db;
    },
    async openAnother() {
      // Another process reaches the embedded server through its URL.
      const d = await openDatabase({ databaseUrl: handle.db.url, dataDir, poolMax: 4 });
      others.push(d);
      return d;
    },
    async cleanup() {
      for (const d of others) await d.close();
      await handle.db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

export const DATABASE_KINDS: DatabaseKind[] = [
  { name: 'PostgreSQL', embedded: false, open: openPostgres },
  { name: 'PGlite (embedded)', embedded: true, open: openPglite },
];
