/** The public face of src/metrics/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { Metrics } from './metrics.js';
