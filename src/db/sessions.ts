// The record of stream sessions: one row per run of a start job (the worker writes it).
import type pg from 'pg';

export interface SessionStart {
  streamKey: string;
  screenId: string;
  taskId?: string | null;
  startedAt?: Date;
}

export interface SessionEnd {
  stopReason: string;
  frames?: number;
  dropped?: number;
  restarts?: number;
  lastError?: string | null;
  stoppedAt?: Date;
}

export interface SessionRow {
  id: number;
  streamKey: string;
  screenId: string;
  taskId: string | null;
  startedAt: Date;
  stoppedAt: Date | null;
  stopReason: string | null;
  frames: number;
  dropped: number;
  restarts: number;
  lastError: string | null;
}

const COLUMNS = `id::float8 AS id, stream_key, screen_id, task_id, started_at, stopped_at, stop_reason,
  frames::float8 AS frames, dropped::float8 AS dropped, restarts, last_error`;

function toRow(r: Record<string, any>): SessionRow {
  return {
    id: r.id,
    streamKey: r.stream_key,
    screenId: r.screen_id,
    taskId: r.task_id,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
    stopReason: r.stop_reason,
    frames: r.frames,
    dropped: r.dropped,
    restarts: r.restarts,
    lastError: r.last_error,
  };
}

export class SessionRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Returns the new session's id. */
  async recordSessionStart(s: SessionStart): Promise<number> {
    const { rows } = await this.pool.query<{ id: number }>(
      `INSERT INTO stream_sessions (stream_key, screen_id, task_id, started_at)
       VALUES ($1, $2, $3, $4) RETURNING id::float8 AS id`,
      [s.streamKey, s.screenId, s.taskId ?? null, s.startedAt ?? new Date()],
    );
    return rows[0].id;
  }

  /** Closes a session; a second call for the same id changes nothing and returns false. */
  async recordSessionEnd(id: number, e: SessionEnd): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE stream_sessions
          SET stopped_at = $2, stop_reason = $3, frames = $4, dropped = $5, restarts = $6, last_error = $7
        WHERE id = $1 AND stopped_at IS NULL`,
      [
        id,
        e.stoppedAt ?? new Date(),
        e.stopReason,
        Math.max(0, Math.trunc(e.frames ?? 0)),
        Math.max(0, Math.trunc(e.dropped ?? 0)),
        Math.max(0, Math.trunc(e.restarts ?? 0)),
        e.lastError ?? null,
      ],
    );
    return rowCount === 1;
  }

  async getSession(id: number): Promise<SessionRow | null> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM stream_sessions WHERE id = $1`, [id]);
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** One page, most recent first, with the number of sessions matching (the sessions API). */
  async pageSessions(opts: { streamKey?: string; limit: number; offset: number }): Promise<{ rows: SessionRow[]; total: number }> {
    const where = opts.streamKey ? 'WHERE stream_key = $1' : '';
    const args = opts.streamKey ? [opts.streamKey] : [];
    const [page, count] = await Promise.all([
      this.pool.query(
        `SELECT ${COLUMNS} FROM stream_sessions ${where} ORDER BY started_at DESC, id DESC LIMIT $${args.length + 1} OFFSET $${args.length + 2}`,
        [...args, opts.limit, opts.offset],
      ),
      this.pool.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM stream_sessions ${where}`, args),
    ]);
    return { rows: page.rows.map(toRow), total: count.rows[0].n };
  }

  /** Most recent first. */
  async listSessions(opts: { streamKey?: string; limit?: number } = {}): Promise<SessionRow[]> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 1000);
    const { rows } = opts.streamKey
      ? await this.pool.query(
          `SELECT ${COLUMNS} FROM stream_sessions WHERE stream_key = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
          [opts.streamKey, limit],
        )
      : await this.pool.query(`SELECT ${COLUMNS} FROM stream_sessions ORDER BY started_at DESC, id DESC LIMIT $1`, [limit]);
    return rows.map(toRow);
  }
}
