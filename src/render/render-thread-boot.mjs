// Entry of a render thread when the service runs from its TypeScript sources (tsx): a worker's
// entry is loaded before an inherited `--import tsx` registers its hooks, so register them here,
// then load the thread. The production build starts dist/render/render-thread.js directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.threadUrl);
