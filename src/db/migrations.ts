// The schema, as an ordered list of migrations. Append only: never edit one that has shipped.
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'polls_votes_sessions',
    sql: `
      CREATE TABLE polls (
        id          serial PRIMARY KEY,
        question    text        NOT NULL,
        options     jsonb       NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        ends_at     timestamptz,
        closed_at   timestamptz,
        final_tally jsonb
      );
      -- At most one open poll: "the current poll" is never ambiguous.
      CREATE UNIQUE INDEX polls_one_open ON polls ((true)) WHERE closed_at IS NULL;

      CREATE TABLE votes (
        poll_id    integer     NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
        voter_id   text        NOT NULL,
        option     text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT votes_one_per_voter UNIQUE (poll_id, voter_id)
      );

      CREATE TABLE stream_sessions (
        id          bigserial PRIMARY KEY,
        stream_key  text        NOT NULL,
        screen_id   text        NOT NULL,
        task_id     text,
        started_at  timestamptz NOT NULL,
        stopped_at  timestamptz,
        stop_reason text,
        frames      bigint      NOT NULL DEFAULT 0,
        dropped     bigint      NOT NULL DEFAULT 0,
        restarts    integer     NOT NULL DEFAULT 0,
        last_error  text
      );
      CREATE INDEX stream_sessions_key_started ON stream_sessions (stream_key, started_at DESC);
    `,
  },
  {
    id: 2,
    name: 'requested_streams',
    sql: `
      -- Desired state: the streams that stay on air until stopped. Redis is rebuilt from here.
      -- payload is the whole start payload, so fields added to it later ride along.
      CREATE TABLE requested_streams (
        stream_key   text        PRIMARY KEY,
        task_id      text        NOT NULL,
        payload      jsonb       NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    // The poll show (winner, reveal, queue).
    id: 3,
    name: 'poll_show_winner_reveal_queue',
    sql: `
      ALTER TABLE polls
        ADD COLUMN winner       jsonb,
        ADD COLUMN reveal_at    timestamptz,
        ADD COLUMN reveal_until timestamptz;

      -- Polls waiting their turn on air, first in first out; the show takes the head.
      CREATE TABLE poll_queue (
        id               serial PRIMARY KEY,
        question         text        NOT NULL,
        options          jsonb       NOT NULL,
        duration_seconds integer,
        created_at       timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    id: 4,
    name: 'requested_streams_scope',
    sql: `
      -- Requested streams belong to one deployment's queues (QUEUE_PREFIX): two deployments, or two
      -- test runs, on one database never resume each other's streams.
      ALTER TABLE requested_streams ADD COLUMN scope text NOT NULL DEFAULT 'bq';
      ALTER TABLE requested_streams DROP CONSTRAINT requested_streams_pkey;
      ALTER TABLE requested_streams ADD PRIMARY KEY (scope, stream_key);
    `,
  },
];
