import { Counter, Gauge, type Registry } from 'prom-client';
import { Deployment } from '../router/index.js';
import type { ModelRegistry } from '../router/index.js';
import type { LedgerStats } from '../usage/index.js';

/** Gauges and counters whose values are read when Prometheus scrapes, not observed per request. */

/** Values read at scrape time: engines' sequences and queues, model loading, deployment health. */
export function registerEngineGauges(registry: Registry, models: ModelRegistry): void {
  const embedded = () =>
    models
      .list()
      .flatMap((model) =>
        model.engines.map((engine) => ({ model: model.name, engine: engine.id, snapshot: engine.snapshot() })),
      );
  const sequenceGauge = (
    name: string,
    help: string,
    read: (sequences: { busy: number; total: number; queued: number }) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['model', 'engine'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const { model, engine, snapshot } of embedded())
          if (snapshot.sequences) this.set({ model, engine }, read(snapshot.sequences));
      },
    });
  sequenceGauge(
    'oruel_embedded_sequences_busy',
    'Sequences of an embedded model generating now.',
    (sequences) => sequences.busy,
  );
  sequenceGauge(
    'oruel_embedded_sequences',
    'Sequences (parallel generation slots) of an embedded model.',
    (sequences) => sequences.total,
  );
  sequenceGauge(
    'oruel_queued_requests',
    'Requests waiting for a free sequence of an embedded model.',
    (sequences) => sequences.queued,
  );
  new Gauge({
    name: 'oruel_embedded_context_size_tokens',
    help: 'Context window per sequence of an embedded model, in tokens.',
    labelNames: ['model', 'engine'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const model of models.list()) {
        for (const engine of model.engines) {
          if (engine.kind === 'llama-cpp' && engine.capabilities.contextSize !== null)
            this.set({ model: model.name, engine: engine.id }, engine.capabilities.contextSize);
        }
      }
    },
  });
  new Gauge({
    name: 'oruel_model_loaded',
    help: '1 when an engine can serve (an embedded model finished loading).',
    labelNames: ['model', 'engine'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { model, engine, snapshot } of embedded()) this.set({ model, engine }, snapshot.loaded ? 1 : 0);
    },
  });
  new Gauge({
    name: 'oruel_deployment_healthy',
    help: '1 when a deployment of a gateway model is in rotation, 0 while it cools down.',
    labelNames: ['model', 'deployment'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const model of models.list()) {
        for (const engine of model.engines) {
          if (engine instanceof Deployment)
            this.set(
              { model: model.name, deployment: engine.id },
              engine.health.availableAt <= engine.policy.now() ? 1 : 0,
            );
        }
      }
    },
  });
}

/** The ledger's rows written, write errors and backlog, read at each scrape. */
export function registerLedgerGauges(registry: Registry, read: () => LedgerStats): void {
  // Counters whose totals the ledger keeps: set from its count at each scrape.
  const fromTotal = (name: string, help: string, pick: (stats: LedgerStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(pick(read()));
      },
    });
  fromTotal(
    'oruel_ledger_rows_written_total',
    'Usage ledger rows stored in the database.',
    (stats) => stats.rowsWritten,
  );
  fromTotal(
    'oruel_ledger_write_errors_total',
    'Failed usage ledger inserts (each retry counts).',
    (stats) => stats.writeErrors,
  );
  const gauge = (name: string, help: string, pick: (stats: LedgerStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(read()));
      },
    });
  gauge(
    'oruel_ledger_spilled_rows',
    'Usage ledger rows waiting on disk for the database.',
    (stats) => stats.spilledRows,
  );
  gauge('oruel_ledger_queued_rows', 'Usage ledger rows waiting in memory.', (stats) => stats.queuedRows);
}
