// The record of the poll show in Postgres: closing a poll into its reveal, opening the next one
// (the queue first), the queue itself, and the history. Every step that changes which poll is
// on air runs in one transaction under the same advisory lock as rotatePoll, and checks that
// the poll it acts on is still the one it expects: the first process wins, the others do nothing.
import type pg from 'pg';
import { POLL_COLUMNS, countVotes, rowToDef } from './repo.js';
import { toOptions, winnerOf } from './tally.js';
import type { PollDef, PollDraft } from './types.js';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

async function inRotationLock<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('stream-fighter:poll-rotate:' || current_schema()))`);
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The newest poll (open, or closed and maybe in its reveal); null on a fresh database. */
export async function getLatestPoll(db: Queryable): Promise<PollDef | null> {
  const { rows } = await db.query(`SELECT ${POLL_COLUMNS} FROM polls ORDER BY id DESC LIMIT 1`);
  return rows[0] ? rowToDef(rows[0]) : null;
}

/**
 * Closes poll `id` if it is still open: final tally, winner, and the reveal window
 * (`revealAt` = now + `closedMs`, `revealUntil` = that + `revealMs`). null: it was not open.
 */
export async function closeForReveal(pool: pg.Pool, id: number, opts: { closedMs: number; revealMs: number }): Promise<PollDef | null> {
  return inRotationLock(pool, async (c) => {
    const { rows: open } = await c.query(`SELECT id, options FROM polls WHERE id = $1 AND closed_at IS NULL FOR UPDATE`, [id]);
    if (!open.length) return null;
    // The row lock waited for vote inserts in flight: this count sees all of them.
    const final = await countVotes(c, id);
    const { rows } = await c.query(
      `UPDATE polls SET closed_at = now(), ends_at = LEAST(COALESCE(ends_at, now()), now()),
              final_tally = $2::jsonb, winner = $3::jsonb,
              reveal_at = now() + make_interval(secs => $4::float8 / 1000),
              reveal_until = now() + make_interval(secs => ($4::float8 + $5::float8) / 1000)
        WHERE id = $1 RETURNING ${POLL_COLUMNS}`,
      [id, JSON.stringify(final), JSON.stringify(winnerOf({ options: open[0].options }, final)), opts.closedMs, opts.revealMs],
    );
    return rowToDef(rows[0]);
  });
}

export interface QueuedPoll {
  id: number;
  question: string;
  options: string[];
  durationSeconds: number | null;
  createdAt: string;
}

function rowToQueued(r: Record<string, any>): QueuedPoll {
  return {
    id: Number(r.id),
    question: r.question,
    options: r.options,
    durationSeconds: r.duration_seconds === null ? null : Number(r.duration_seconds),
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/**
 * Opens the next poll if poll `afterId` is still the newest and closed (null `afterId`: only on
 * an empty table). Takes the head of the queue; when the queue is empty, `fallback` (a draft the
 * caller made before, outside the lock). Duration: the queued poll's, else `durationSeconds`
 * (0: no end, the show waits for "close now"). null: another process got there first.
 */
export async function openNext(
  pool: pg.Pool,
  afterId: number | null,
  opts: { fallback: PollDraft; durationSeconds: number },
): Promise<{ created: PollDef; fromQueue: QueuedPoll | null } | null> {
  return inRotationLock(pool, async (c) => {
    const { rows: latest } = await c.query('SELECT id, closed_at FROM polls ORDER BY id DESC LIMIT 1 FOR UPDATE');
    if (latest.length ? Number(latest[0].id) !== afterId || latest[0].closed_at === null : afterId !== null) return null;
    const { rows: q } = await c.query(
      `DELETE FROM poll_queue WHERE id = (SELECT id FROM poll_queue ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, question, options, duration_seconds, created_at`,
    );
    const fromQueue = q[0] ? rowToQueued(q[0]) : null;
    const draft = fromQueue ?? opts.fallback;
    const seconds = fromQueue?.durationSeconds ?? opts.durationSeconds;
    const { rows } = await c.query(
      `INSERT INTO polls (question, options, ends_at)
       VALUES ($1, $2::jsonb, CASE WHEN $3::int > 0 THEN now() + make_interval(secs => $3::int) END)
       RETURNING ${POLL_COLUMNS}`,
      [draft.question, JSON.stringify(toOptions(draft)), seconds],
    );
    return { created: rowToDef(rows[0]), fromQueue };
  });
}

export async function enqueuePoll(db: Queryable, draft: PollDraft, durationSeconds: number | null): Promise<QueuedPoll> {
  const { rows } = await db.query(
    `INSERT INTO poll_queue (question, options, duration_seconds) VALUES ($1, $2::jsonb, $3)
     RETURNING id, question, options, duration_seconds, created_at`,
    [draft.question, JSON.stringify(draft.options), durationSeconds],
  );
  return rowToQueued(rows[0]);
}

export async function listQueue(db: Queryable): Promise<QueuedPoll[]> {
  const { rows } = await db.query('SELECT id, question, options, duration_seconds, created_at FROM poll_queue ORDER BY id LIMIT 100');
  return rows.map(rowToQueued);
}

export async function queueLength(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM poll_queue');
  return rows[0].n;
}

export async function removeQueued(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM poll_queue WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** Polls newest first: keyset (`before` an id) or offset pages; one more than `limit` tells if more follow. */
export async function listPolls(db: Queryable, opts: { limit: number; before?: number; offset?: number }): Promise<{ polls: PollDef[]; more: boolean }> {
  const { rows } = await db.query(
    `SELECT ${POLL_COLUMNS} FROM polls WHERE ($1::int IS NULL OR id < $1) ORDER BY id DESC LIMIT $2 OFFSET $3`,
    [opts.before ?? null, opts.limit + 1, opts.offset ?? 0],
  );
  return { polls: rows.slice(0, opts.limit).map(rowToDef), more: rows.length > opts.limit };
}
