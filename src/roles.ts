// Wiring of the two roles with everything optional around them; the entry points call these.
import type { Config } from './config.js';
import { setDefaultStreamKey } from './keys.js';
import { startWeb } from './web-server.js';
import { WorkerRuntime } from './jobs/runtime.js';
import type { Shutdown } from './shutdown.js';
import { createBroadcastFactory } from './render/broadcast.js';

export async function runWeb(config: Config, shutdown: Shutdown) {
  setDefaultStreamKey(config.DEFAULT_STREAM_KEY);
  const web = await startWeb(config);
  shutdown.add('web', () => web.close());
  return web;
}

export async function runWorker(config: Config, shutdown: Shutdown) {
  setDefaultStreamKey(config.DEFAULT_STREAM_KEY);
  const worker = new WorkerRuntime(config, { broadcast: await createBroadcastFactory(config) });
  shutdown.add('worker', () => worker.close());
  await worker.start();
  return worker;
}
