// The one table of the HTTP API: every route with its request and response schemas. The
// OpenAPI document is built from it, and test/openapi.test.ts fails when Express serves a
// route this table lacks, or a route answers something its schema here does not allow.
import { z } from 'zod';
import { keyQuery, startBody, stopBody } from '../routes/stream.js';
import { createBody, deleteQuery } from '../routes/streams-api.js';
import { generateBody, pollIdParams, voteBody } from '../routes/poll.js';
import { sessionIdParams, sessionsQuery } from '../routes/sessions.js';
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
    responses: { 201: { description: 'start job queued', schema: S.streamCreated }, ...bad, ...authErr, 409: err('already active'), ...down },
  },
  {
    method: 'delete', path: '/api/stream', tag: 'streams', auth: true, query: deleteQuery,
    summary: 'Stop a named stream.',
    responses: { 200: { description: 'stop job queued', schema: S.streamDeleted }, ...bad, ...authErr, 409: err('not active'), ...down },
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
