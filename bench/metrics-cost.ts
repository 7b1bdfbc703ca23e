/**
 * `npm run bench:metrics`: the CPU one request's /metrics bookkeeping costs (counters, histograms,
 * in-flight gauge), measured alone, to compare with the gateway bench's CPU per stream
 * (`npm run bench:gateway` with and without `--no-metrics`; their difference is within that bench's noise).
 */
import { Metrics } from '../src/metrics/metrics.js';
import { ModelRegistry } from '../src/router/model-registry.js';

const REQUESTS = 200_000;

const registry = new ModelRegistry();
registry.add({ name: 'instant', engines: [], created: 0, ownedBy: 'bench' });
const metrics = new Metrics(registry, { perKeyTokens: false });

function microsecondsPerRequest(): number {
  const start = process.cpuUsage();
  for (let index = 0; index < REQUESTS; index += 1) {
    metrics.requestStarted('chat.completions');
    metrics.requestFinished({
      endpoint: 'chat.completions',
      model: 'instant',
      engine: 'openai/instant/127.0.0.1:1',
      stream: true,
      status: 200,
      outcome: 'completed',
      keyId: 'key_bench',
      promptTokens: 12,
      completionTokens: 64,
      ttftMs: 3,
      durationMs: 9,
    });
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / REQUESTS;
}

microsecondsPerRequest(); // warm-up: JIT and label maps
const figure = microsecondsPerRequest();
process.stdout.write(
  `metrics bookkeeping: ${figure.toFixed(2)} µs CPU per request\n${JSON.stringify({ metricsCpuPerRequestUs: figure })}\n`,
);
