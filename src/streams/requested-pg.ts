// PostgreSQL side of the requested streams (requested.ts): one row per requested stream, in the
// scope of one deployment's queues (QUEUE_PREFIX), so deployments sharing a database stay apart.
import type pg from 'pg';
import type { RequestedStream, RequestedStreams } from './requested.js';

const toRow = (r: Record<string, any>): RequestedStream => ({
  streamKey: r.stream_key,
  taskId: r.task_id,
  payload: r.payload,
  requestedAt: r.requested_at,
});

export class PgRequestedStreams implements RequestedStreams {
  constructor(
    private readonly pool: pg.Pool,
    private readonly scope: string,
  ) {}

  async put(r: { streamKey: string; taskId: string; payload: Record<string, unknown> }): Promise<void> {
    await this.pool.query(
      `INSERT INTO requested_streams (scope, stream_key, task_id, payload) VALUES ($1, $2, $3, $4)
       ON CONFLICT (scope, stream_key) DO UPDATE SET task_id = EXCLUDED.task_id, payload = EXCLUDED.payload,
         requested_at = now(), updated_at = now()`,
      [this.scope, r.streamKey, r.taskId, JSON.stringify(r.payload)],
    );
  }

  async remove(streamKey: string, taskId?: string): Promise<boolean> {
    const res = taskId
      ? await this.pool.query('DELETE FROM requested_streams WHERE scope = $1 AND stream_key = $2 AND task_id = $3', [this.scope, streamKey, taskId])
      : await this.pool.query('DELETE FROM requested_streams WHERE scope = $1 AND stream_key = $2', [this.scope, streamKey]);
    return (res.rowCount ?? 0) > 0;
  }

  async get(streamKey: string): Promise<RequestedStream | null> {
    const res = await this.pool.query('SELECT * FROM requested_streams WHERE scope = $1 AND stream_key = $2', [this.scope, streamKey]);
    return res.rows[0] ? toRow(res.rows[0]) : null;
  }

  async list(): Promise<RequestedStream[]> {
    const res = await this.pool.query('SELECT * FROM requested_streams WHERE scope = $1 ORDER BY requested_at, stream_key', [this.scope]);
    return res.rows.map(toRow);
  }
}
