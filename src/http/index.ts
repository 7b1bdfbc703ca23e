/** The public face of src/http/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { createApp } from './create-app.js';
export { Drain } from './drain.js';
export { ensurePortFree, listenError } from './port-check.js';
export { registerMetricsRoute } from './routes/metrics.js';
