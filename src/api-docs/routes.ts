// The one table of the HTTP API: every route with its request and response schemas. The
// OpenAPI document is built from it, and test/openapi.test.ts fails when Express serves a
// route this table lacks, or a route answers something its schema here does not allow.
import { z } from 'zod';
import { keyQuery, startBody, stopBody } from '../routes/stream.js';
import { createBody, deleteQuery, destParams, keyParams } from '../routes/streams-api.js';
import { destinationInput } from '../streams/schema.js';
import { generateBody, pollIdParams, voteBody } from '../routes/poll.js';
import { sessionIdParams, sessionsQuery } from '../routes/sessions.js';
import { pollListQuery, queueBody, queueIdParams } from '../routes/polls-admin.js';
import * as S from './schemas.js';
import { chatStatusSchema } from '../chat/index.js';

export interface ApiResponse {
  description: string;
  /** JSON body; absent for non-JSON answers (contentType says which). */
  schema?: z.ZodType;
  contentType?: string;
}

export interface ApiRoute {
  method: 'get' | 'post' | 'delete';
  /** Express form: `/api/polls/:id`. */
  path: string;
  summary: string;
  tag: 'parity' | 'streams' | 'polls' | 'operations' | 'docs';
  /** Needs `Authorization: Bearer <API_TOKEN>` when the server has one. */
  auth?: boolean;
  query?: z.ZodType;
  params?: z.ZodType;
  body?: z.ZodType;
  responses: Record<number, ApiResponse>;
}

const err = (description: string): ApiResponse => ({ description, schema: S.errorBody });
const bad = { 400: err('invalid body, query or path parameter; `details` names the field') };
const authErr = { 401: err('missing or wrong bearer token') };
const down = { 503: err('Redis or the database is unavailable; retry') };

export const ROUTES: ApiRoute[] = [
  {
    method: 'post', path: '/stream/start', tag: 'parity', auth: true, body: startBody,
    summary: 'Start a stream (the default one unless streamKey is given). Python parity: snake_case answer.',
    responses: { 200: { description: 'start job queued', schema: S.startAnswer }, ...bad, ...authErr, 409: err('already active; `details` is its status'), ...down },
  },
  {
    method: 'post', path: '/stream/stop', tag: 'parity', auth: true, body: stopBody,
    summary: 'Send the stop signal to a running stream.',
    responses: { 200: { description: 'stop job queued', schema: S.stopAnswer }, ...bad, ...authErr, 409: err('not active'), ...down },
  },
  {
    method: 'get', path: '/stream/status', tag: 'parity', query: keyQuery,
    summary: 'The stream\'s state hash (`streaming:state`), Python fields first.',
    responses: { 200: { description: 'status', schema: S.streamStatus }, ...bad, ...down },
  },
  {
    method: 'get', path: '/stream/feed', tag: 'parity', query: keyQuery,
    summary: 'SSE preview: `data: <base64 JPEG>` per frame, then `data: stream_stopped`.',
    responses: { 200: { description: 'event stream', contentType: 'text/event-stream' }, ...bad },
  },
  {
    method: 'get', path: '/api/stream', tag: 'streams',
    summary: 'Active streams with health and counters.',
    responses: { 200: { description: 'active streams', schema: S.streamList }, ...down },
  },
  {
    method: 'post', path: '/api/stream', tag: 'streams', auth: true, body: createBody,
    summary: 'Start a named stream with a scene.',
    responses: {
      201: { description: 'start job queued, and a live worker advertises room for it (or ADMISSION=off)', schema: S.streamCreated },
      202: {
        description: 'ADMISSION=measured and no live worker advertises room (heartbeat headroom ≥ 1): the start is accepted and requested, and waits (health "waiting", reason "no capacity"); it starts by itself when a worker has room',
        schema: S.streamWaiting,
      },
      ...bad, ...authErr, 409: err('already active'),
      503: err('Redis or the database is unavailable; or, with `wait: false`, no worker has room now (error "no_capacity", `Retry-After` in seconds): nothing was started, reserved or recorded'),
    },
  },
  {
    method: 'delete', path: '/api/stream', tag: 'streams', auth: true, query: deleteQuery,
    summary: 'Stop a named stream.',
    responses: { 200: { description: 'stop job queued', schema: S.streamDeleted }, ...bad, ...authErr, 409: err('not active'), ...down },
  },
  {
    method: 'get', path: '/api/stream/:streamKey', tag: 'streams', params: keyParams,
    summary: 'One stream (active, or failed within the hour) with each destination\'s status; URLs with their keys redacted.',
    responses: { 200: { description: 'the stream', schema: S.streamDetail }, ...bad, 404: err('no such stream'), ...down },
  },
  {
    method: 'post', path: '/api/stream/:streamKey/destinations', tag: 'streams', auth: true, params: keyParams, body: destinationInput,
    summary: 'Add a destination (full rtmp:// or rtmps:// URL with its key) to a live stream; the others go on untouched.',
    responses: {
      201: { description: 'added', schema: S.destinationAdded }, ...bad, ...authErr, 404: err('no such active stream'),
      409: err('the stream has no broadcast running yet, or already has 8 destinations'), ...down,
    },
  },
  {
    method: 'delete', path: '/api/stream/:streamKey/destinations/:id', tag: 'streams', auth: true, params: destParams,
    summary: 'Remove a destination from a live stream; the others go on untouched.',
    responses: { 200: { description: 'removed', schema: S.destinationRemoved }, ...bad, ...authErr, 404: err('no such active stream or destination'), ...down },
  },
  {
    method: 'get', path: '/hls/:streamKey/:file', tag: 'streams',
    summary: 'A stream\'s HLS output (`index.m3u8`, `seg<n>.ts`) when it runs with HLS on.',
    responses: {
      200: { description: 'playlist or segment', contentType: 'application/vnd.apple.mpegurl' },
      404: err('no such playlist or segment'),
    },
  },
  {
    method: 'get', path: '/api/poll', tag: 'polls',
    summary: 'The open poll with live counts and percentages.',
    responses: { 200: { description: 'the open poll', schema: S.pollView }, 404: err('no poll is open'), ...down },
  },
  {
    method: 'post', path: '/api/vote', tag: 'polls', body: voteBody,
    summary: 'Vote once per voter per poll (voter from the sf_voter cookie unless voterId is given).',
    responses: {
      200: { description: 'vote recorded', schema: S.voteAnswer }, ...bad, 404: err('no poll is open'),
      409: err('already voted, or the poll has closed (`details.reason`)'), ...down,
    },
  },
  {
    method: 'post', path: '/api/poll/generate', tag: 'polls', auth: true, body: generateBody,
    summary: 'Close the open poll (keeping its tally) and open a new one.',
    responses: { 201: { description: 'the new poll and the closed one', schema: S.generateAnswer }, ...bad, ...authErr, ...down },
  },
  {
    method: 'post', path: '/api/poll/close', tag: 'polls', auth: true,
    summary: 'Close the open poll now: its winner is revealed (REVEAL_SECONDS), then the next poll opens.',
    responses: { 200: { description: 'the closed poll', schema: S.pollClosed }, ...authErr, 409: err('no poll is open'), ...down },
  },
  {
    method: 'get', path: '/api/polls', tag: 'polls', query: pollListQuery,
    summary: 'Polls newest first with their final tallies and winners; `?limit&before=<id>` or `?limit&page=<n>`.',
    responses: { 200: { description: 'a page of polls', schema: S.pollList }, ...bad, ...down },
  },
  {
    method: 'get', path: '/api/polls/queue', tag: 'polls',
    summary: 'The polls waiting their turn on air, first to go first.',
    responses: { 200: { description: 'the queue', schema: S.pollQueue }, ...down },
  },
  {
    method: 'post', path: '/api/polls/queue', tag: 'polls', auth: true, body: queueBody,
    summary: 'Queue a poll (question, 2–4 options, optional durationSeconds: 0 = until closed by hand).',
    responses: { 201: { description: 'queued', schema: S.pollQueued }, ...bad, ...authErr, ...down },
  },
  {
    method: 'delete', path: '/api/polls/queue/:id', tag: 'polls', auth: true, params: queueIdParams,
    summary: 'Take a poll off the queue.',
    responses: { 200: { description: 'removed', schema: S.pollDequeued }, ...bad, ...authErr, 404: err('no such queued poll'), ...down },
  },
  {
    method: 'get', path: '/api/polls/:id', tag: 'polls', params: pollIdParams,
    summary: 'A poll\'s results (final once closed).',
    responses: { 200: { description: 'the poll', schema: S.pollView }, ...bad, 404: err('no such poll'), ...down },
  },
  {
    method: 'get', path: '/api/sessions', tag: 'operations', query: sessionsQuery,
    summary: 'Stream sessions (one per run of a start job), newest first, paged; optionally one stream\'s.',
    responses: { 200: { description: 'a page of sessions', schema: S.sessionPage }, ...bad, ...down },
  },
  {
    method: 'get', path: '/api/sessions/:id', tag: 'operations', params: sessionIdParams,
    summary: 'One stream session.',
    responses: { 200: { description: 'the session', schema: S.session }, ...bad, 404: err('no such session'), ...down },
  },
  {
    method: 'get', path: '/api/stats', tag: 'operations',
    summary: 'Per active stream: encoded fps, bitrate, frames, drops, and this node\'s viewers (the dashboard\'s graphs).',
    responses: { 200: { description: 'stats', schema: S.statsAnswer }, ...down },
  },
  {
    method: 'get', path: '/api/health', tag: 'operations',
    summary: 'Redis, queues, live workers, database.',
    responses: { 200: { description: 'healthy (status ok, or degraded with no live worker)', schema: S.apiHealth }, 503: { description: 'a dependency is down', schema: S.apiHealth } },
  },
  {
    method: 'get', path: '/api/chat', tag: 'operations',
    summary: 'The chat bridge (issue 12): channel, connected, messages/s, votes counted, last error, the node running it.',
    responses: { 200: { description: 'chat bridge state ({configured:false} without TWITCH_CHANNEL)', schema: chatStatusSchema } },
  },
  {
    method: 'get', path: '/health', tag: 'operations',
    summary: 'StreamHub\'s health with the socket.io distribution statistics.',
    responses: { 200: { description: 'health', schema: S.hubHealth } },
  },
  {
    method: 'get', path: '/metrics', tag: 'operations',
    summary: 'Prometheus metrics (sf_* and the process\'s). Bearer METRICS_TOKEN when set.',
    responses: { 200: { description: 'text exposition format', contentType: 'text/plain' }, 401: err('METRICS_TOKEN is set and the token is missing or wrong') },
  },
  {
    method: 'get', path: '/api/openapi.json', tag: 'docs',
    summary: 'This document.',
    responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
  },
  {
    method: 'get', path: '/api/docs', tag: 'docs',
    summary: 'A page that lists this document.',
    responses: { 200: { description: 'HTML', contentType: 'text/html' } },
  },
];

/** `/api/polls/:id` → `/api/polls/{id}`. */
export const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
