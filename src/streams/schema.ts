// The one zod source for a stream's parameters: stream key, scene id, preview fps/quality,
// broadcast fps. The routers' bodies and the job payloads are composed from these pieces, so a
// range is written once and the web process and the worker accept exactly the same values.
import { z } from 'zod';
import { STREAM_KEY_RE } from '../config.js';
import { badRequest } from '../errors.js';
import { resolveSceneId, sceneIds } from '../render/scenes/catalog.js';

export const streamKeySchema = z.string().regex(STREAM_KEY_RE, 'stream key: 1-64 characters of A-Z a-z 0-9 _ -');
export const screenIdSchema = z.string().min(1).max(64);
/** Frames per second, of the preview (`fps`, Python meaning) or of the broadcast (`broadcastFps`). */
export const fpsSchema = z.number().int().min(1).max(60);
/** JPEG quality of the preview. */
export const qualitySchema = z.number().int().min(1).max(100);

/** Destinations a stream may have at once. */
export const MAX_DESTINATIONS = 8;

/**
 * A full RTMP destination: rtmp:// or rtmps://, a host, then at least an application and the
 * key (`rtmp://a.rtmp.youtube.com/live2/<key>`); a query is allowed (some platforms put tokens there).
 */
export const DESTINATION_URL_RE = /^rtmps?:\/\/(?:[^\s/?#@]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?(?:\/[^\s/?#]+){2,}(?:\?[^\s#]*)?$/i;
export const destinationUrlSchema = z
  .string()
  .max(2048)
  .regex(DESTINATION_URL_RE, 'a full rtmp:// or rtmps:// URL with the application and the stream key (rtmp://host/app/key)');
export const destinationNameSchema = z.string().trim().min(1).max(64);
/** What a caller gives for one destination. */
export const destinationInput = z.strictObject({ url: destinationUrlSchema, name: destinationNameSchema.optional() });
export const destinationId = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);
/** A destination as the stream keeps it (start payload, state hash): with its id. */
export const destinationSchema = z.object({ id: destinationId, url: destinationUrlSchema, name: destinationNameSchema.optional() });
export type DestinationConfig = z.infer<typeof destinationSchema>;

/** Python defaults of `POST /stream/start`. */
export const DEFAULT_FPS = 15;
export const DEFAULT_QUALITY = 75;

/** The start parameters a caller may give, with the Python defaults (both routers). */
export const startParams = {
  fps: fpsSchema.default(DEFAULT_FPS),
  quality: qualitySchema.default(DEFAULT_QUALITY),
  broadcastFps: fpsSchema.optional(),
  /** Where the broadcast goes; absent: RTMP_URL's bases with the stream key. */
  destinations: z.array(destinationInput).min(1).max(MAX_DESTINATIONS).optional(),
  /** Also write HLS for the dashboard (HLS=true does it for every stream). */
  hls: z.boolean().optional(),
};

/** Payload of the start job (the producer and the worker parse it with this). */
export const startPayload = z.object({
  taskId: z.string().uuid(),
  streamKey: streamKeySchema,
  screenId: screenIdSchema,
  fps: fpsSchema,
  quality: qualitySchema,
  broadcastFps: fpsSchema.optional(),
  requestedAt: z.number(),
  /** The stream's destinations as last known; the durable copy of the payload keeps them current. */
  destinations: z.array(destinationSchema).max(MAX_DESTINATIONS).optional(),
  hls: z.boolean().optional(),
});

export const stopPayload = z.object({
  taskId: z.string().uuid(),
  streamKey: streamKeySchema,
  reason: z.string().max(200).default('requested'),
});

export const statusPayload = z.object({
  streamKey: streamKeySchema,
});

export type StartPayload = z.infer<typeof startPayload>;
export type StopPayload = z.infer<typeof stopPayload>;

/**
 * A screen id must name a scene (or a seed's alias of one, such as `test`); answered as a 400
 * that lists the known ones. Returns the scene's own id, which is what the job carries.
 */
export function checkScreen(screenId: string): string {
  const scene = resolveSceneId(screenId);
  if (!scene) throw badRequest(`unknown screenId "${screenId}"`, { field: 'screenId', known: sceneIds() });
  return scene;
}
