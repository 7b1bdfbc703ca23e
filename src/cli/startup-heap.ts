import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by bin/oruel.js, for its side effect, before the CLI itself is imported: V8's young generation does not grow while the
 * process starts.
 *
 * Start-up (parsing and evaluating a few hundred modules, compiling schemas) allocates in a burst,
 * V8 grows the young generation to its maximum (2 x 16 MiB) in response, and an idle server never
 * gives that memory back: a gateway-only `oruel serve` sat at 103-106 MiB resident, 38 MiB of its
 * heap committed but unused. Holding the growth factor at 1 until the server is ready keeps those
 * pages untouched (88-94 MiB idle); `endStartupHeapHold` restores V8's default factor (2) so under
 * load the young generation grows exactly as it always did (throughput unchanged).
 */
const V8_DEFAULT_GROWTH_FACTOR = 2;

setFlagsFromString('--semi-space-growth-factor=1');

export function endStartupHeapHold(): void {
  setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH_FACTOR}`);
}
