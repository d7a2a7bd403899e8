// A stream's destinations, as the stream domain keeps them: the wanted list (`destinations`, JSON
// of {id, url, name}) and each one's status as its worker last saw it (`dest_status`, JSON), both
// fields of the stream's state hash, so they go and come back with it (stop, takeover, Redis
// restart). The web adds and removes; the running job applies, told on `sf:control:destinations`.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { conflict, notFound } from '../errors.js';
import { keys } from '../keys.js';
import { defineScripts } from '../redis/index.js';
import { redactUrl } from '../render/ffmpeg/args.js';
import type { OutputStatus } from '../render/ffmpeg/copy-output.js';
import { destinationSchema, MAX_DESTINATIONS, type DestinationConfig } from './schema.js';

export type { DestinationConfig };

/** What `GET /api/stream/:streamKey` shows of a destination: never its key. */
export interface DestinationView {
  id: string;
  name: string;
  url: string;
  health: OutputStatus['health'];
  since: number | null;
  bytes: number;
  restarts: number;
  lastError: string | null;
}

export const newDestinationId = () => `d-${crypto.randomBytes(4).toString('hex')}`;

export function withIds(list: Array<{ url: string; name?: string }>): DestinationConfig[] {
  return list.map((d) => ({ id: newDestinationId(), url: d.url, ...(d.name ? { name: d.name } : {}) }));
}

/** The wanted list from the hash field; undefined when the stream has none (yet). Lua's cjson writes `{}` for an empty list. */
export function parseDestinations(field: string | undefined): DestinationConfig[] | undefined {
  if (field === undefined || field === '') return undefined;
  const v: unknown = JSON.parse(field);
  if (!Array.isArray(v)) return [];
  return v.map((d) => destinationSchema.parse(d));
}

function parseStatus(field: string | undefined): OutputStatus[] {
  if (!field) return [];
  try {
    const v: unknown = JSON.parse(field);
    return Array.isArray(v) ? (v as OutputStatus[]) : [];
  } catch {
    return [];
  }
}

/** The wanted destinations joined with their last status, keys redacted. */
export function destinationViews(state: Record<string, string>): DestinationView[] {
  const status = new Map(parseStatus(state.dest_status).map((s) => [s.id, s]));
  return (parseDestinations(state.destinations) ?? []).map((d) => {
    const s = status.get(d.id);
    return {
      id: d.id,
      name: d.name ?? '',
      url: redactUrl(d.url),
      health: s?.health ?? 'starting',
      since: s?.since ?? null,
      bytes: s?.bytes ?? 0,
      restarts: s?.restarts ?? 0,
      lastError: s?.lastError ?? null,
    };
  });
}

export async function addDestination(redis: Redis, streamKey: string, d: { url: string; name?: string }): Promise<DestinationConfig> {
  const [dest] = withIds([d]);
  // One step, only on an active stream whose list its worker has written: src/redis/lua/dest-add.lua
  const code = await defineScripts(redis).destAdd([keys.state(streamKey), keys.destControl()], [streamKey, JSON.stringify(dest), MAX_DESTINATIONS]);
  if (code === -1) throw notFound(`stream ${streamKey} is not active`);
  if (code === -2) throw conflict(`stream ${streamKey} has no broadcast running yet (it is queued or starting, or RTMP is off); try again in a moment`);
  if (code === -3) throw conflict(`stream ${streamKey} already has ${MAX_DESTINATIONS} destinations (the most a stream may have)`);
  return dest;
}

export async function removeDestination(redis: Redis, streamKey: string, id: string): Promise<void> {
  const code = await defineScripts(redis).destRemove([keys.state(streamKey), keys.destControl()], [streamKey, id]);
  if (code === -1) throw notFound(`stream ${streamKey} is not active`);
  if (code === -4) throw notFound(`stream ${streamKey} has no destination ${id}`);
}
