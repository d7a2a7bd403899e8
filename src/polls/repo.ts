// The record of polls and votes in Postgres: the source of truth the Redis tallies derive from.
import type pg from 'pg';
import type { PollDef, PollDraft } from './types.js';
import { toOptions, winnerOf } from './tally.js';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export const POLL_COLUMNS = 'id, question, options, created_at, ends_at, closed_at, final_tally, winner, reveal_at, reveal_until';

function iso(d: Date | string | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}

export function rowToDef(r: Record<string, any>): PollDef {
  const def: PollDef = {
    id: Number(r.id),
    question: r.question,
    options: r.options,
    createdAt: iso(r.created_at)!,
    endsAt: iso(r.ends_at),
    closedAt: iso(r.closed_at),
    finalTally: r.final_tally ?? null,
    revealAt: iso(r.reveal_at ?? null),
    revealUntil: iso(r.reveal_until ?? null),
  };
  // Polls closed before the winner was recorded: worked out from their final tally.
  if (def.closedAt) def.winner = r.winner ?? (def.finalTally ? winnerOf(def, def.finalTally) : null);
  return def;
}

export async function getOpenPoll(db: Queryable): Promise<PollDef | null> {
  const { rows } = await db.query(`SELECT ${POLL_COLUMNS} FROM polls WHERE closed_at IS NULL ORDER BY id DESC LIMIT 1`);
  return rows[0] ? rowToDef(rows[0]) : null;
}

export async function getPollById(db: Queryable, id: number): Promise<PollDef | null> {
  const { rows } = await db.query(`SELECT ${POLL_COLUMNS} FROM polls WHERE id = $1`, [id]);
  return rows[0] ? rowToDef(rows[0]) : null;
}

export async function countVotes(db: Queryable, pollId: number): Promise<Record<string, number>> {
  const { rows } = await db.query<{ option: string; n: number }>(
    'SELECT option, count(*)::int AS n FROM votes WHERE poll_id = $1 GROUP BY option',
    [pollId],
  );
  return Object.fromEntries(rows.map((r) => [r.option, r.n]));
}

export async function totalVotes(db: Queryable, pollId: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM votes WHERE poll_id = $1', [pollId]);
  return rows[0].n;
}

/** Pages through a poll's votes in voter order (keyset, so memory stays flat). */
export async function* votesOf(db: Queryable, pollId: number, pageSize = 5000): AsyncGenerator<{ voterId: string; option: string }[]> {
  let after = '';
  for (;;) {
    const { rows } = await db.query<{ voter_id: string; option: string }>(
      'SELECT voter_id, option FROM votes WHERE poll_id = $1 AND voter_id > $2 ORDER BY voter_id LIMIT $3',
      [pollId, after, pageSize],
    );
    if (!rows.length) return;
    yield rows.map((r) => ({ voterId: r.voter_id, option: r.option }));
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1].voter_id;
  }
}

export interface VoteRow {
  pollId: number;
  voterId: string;
  option: string;
}

/**
 * One statement, one round trip, for a whole batch: inserts the votes whose poll is still
 * open, skips voters who already voted, and says which polls were open. `FOR SHARE` on the
 * poll row makes closing a poll wait for inserts in flight, so a final tally misses nothing.
 */
export async function insertVotes(
  db: Queryable,
  votes: VoteRow[],
): Promise<{ inserted: Set<string>; openPolls: Set<number> }> {
  const pollIds = [...new Set(votes.map((v) => v.pollId))];
  const { rows } = await db.query<{ kind: string; poll_id: number; voter_id: string | null }>(
    `WITH open AS (
       SELECT id FROM polls
        WHERE id = ANY($1::int[]) AND closed_at IS NULL AND (ends_at IS NULL OR ends_at > now())
        FOR SHARE
     ), ins AS (
       INSERT INTO votes (poll_id, voter_id, option)
       SELECT v.poll_id, v.voter_id, v.option
         FROM unnest($2::int[], $3::text[], $4::text[]) AS v(poll_id, voter_id, option)
         JOIN open ON open.id = v.poll_id
       ON CONFLICT (poll_id, voter_id) DO NOTHING
       RETURNING poll_id, voter_id
     )
     SELECT 'ins' AS kind, poll_id, voter_id FROM ins
     UNION ALL
     SELECT 'open', id, NULL FROM open`,
    [pollIds, votes.map((v) => v.pollId), votes.map((v) => v.voterId), votes.map((v) => v.option)],
  );
  const inserted = new Set<string>();
  const openPolls = new Set<number>();
  for (const r of rows) {
    if (r.kind === 'ins') inserted.add(voteKey(r.poll_id, r.voter_id!));
    else openPolls.add(r.poll_id);
  }
  return { inserted, openPolls };
}

export const voteKey = (pollId: number, voterId: string) => `${pollId}\u0000${voterId}`;

/**
 * Closes the open poll (recording its final tally) and opens a new one, in one transaction.
 * A transaction-scoped advisory lock serialises concurrent calls across processes. With
 * `onlyIfNone`, does nothing when a poll is already open (start-up of several processes);
 * with `expectOpenId`, does nothing unless that poll is the open one (several processes
 * rotating an ended poll: the first one wins).
 */
export async function rotatePoll(
  pool: pg.Pool,
  draft: PollDraft,
  opts: { endsAt?: Date | null; onlyIfNone?: boolean; expectOpenId?: number } = {},
): Promise<{ created: PollDef | null; closed: PollDef | null; open: PollDef }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('stream-fighter:poll-rotate:' || current_schema()))`);
    const { rows: openRows } = await client.query(
      `SELECT ${POLL_COLUMNS} FROM polls WHERE closed_at IS NULL ORDER BY id DESC FOR UPDATE`,
    );
    const skip =
      (opts.onlyIfNone && openRows.length > 0) ||
      (opts.expectOpenId !== undefined && Number(openRows[0]?.id) !== opts.expectOpenId);
    if (skip && openRows.length) {
      await client.query('COMMIT');
      return { created: null, closed: null, open: rowToDef(openRows[0]) };
    }
    let closed: PollDef | null = null;
    for (const row of openRows) {
      // The row lock above waited for vote inserts in flight; this count sees all of them.
      const final = await countVotes(client, Number(row.id));
      const { rows } = await client.query(
        `UPDATE polls SET closed_at = now(), final_tally = $2::jsonb, winner = $3::jsonb WHERE id = $1 RETURNING ${POLL_COLUMNS}`,
        [row.id, JSON.stringify(final), JSON.stringify(winnerOf({ options: row.options }, final))],
      );
      closed = rowToDef(rows[0]);
    }
    const { rows } = await client.query(
      `INSERT INTO polls (question, options, ends_at) VALUES ($1, $2::jsonb, $3) RETURNING ${POLL_COLUMNS}`,
      [draft.question, JSON.stringify(toOptions(draft)), opts.endsAt ?? null],
    );
    await client.query('COMMIT');
    const created = rowToDef(rows[0]);
    return { created, closed, open: created };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
