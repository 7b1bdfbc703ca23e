/**
 * `npx tsx bench/ledger-insert.ts`: rows per second and CPU per row of the SQLite usage ledger alone,
 * through Kysely's multi-row INSERT (compiled and prepared per batch) and through `sqliteRowWriter`
 * (one prepared statement reused, one transaction per batch). Both run in the same process on
 * fresh temp databases, alternating, so machine noise hits them alike.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/storage/database.js';
import { insertLedgerRows } from '../src/usage/ledger-queries.js';
import type { LedgerRecord } from '../src/usage/ledger.js';
import { SqlLedger } from '../src/usage/sql-ledger.js';
import { sqliteRowWriter } from '../src/usage/sqlite-row-writer.js';

const ROWS = 50_000;
const ROUNDS = 3;
const silent = { warn: () => undefined, error: () => undefined };

function record(index: number): LedgerRecord {
  const startedAt = new Date(1_735_689_600_000 + index);
  return {
    requestId: `req_${index}`,
    keyId: 'key_bench',
    model: 'instant',
    engine: 'openai/instant/127.0.0.1:1',
    stream: true,
    promptTokens: 12,
    completionTokens: 64,
    usageSource: 'engine',
    finishReason: 'stop',
    outcome: 'completed',
    errorCode: null,
    status: 200,
    ttftMs: 3,
    durationMs: 9,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 9),
  };
}

async function measure(prepared: boolean): Promise<{ rowsPerSecond: number; cpuMicrosPerRow: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'oruel-bench-ledger-'));
  const database = await openDatabase(`sqlite:${join(dir, 'ledger.db')}`);
  try {
    const handle = database.sqliteHandle;
    if (handle === null) throw new Error('expected SQLite');
    const writeRows = prepared ? sqliteRowWriter(handle, (rows) => insertLedgerRows(database.db, rows)) : undefined;
    const ledger = new SqlLedger(database.db, { logger: silent, writeRows });
    const cpu = process.cpuUsage();
    const started = performance.now();
    // Records arrive in bursts, as requests finish; the writer batches what has queued.
    for (let index = 0; index < ROWS; index += 1) {
      ledger.record(record(index));
      if (index % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
    }
    await ledger.close();
    const seconds = (performance.now() - started) / 1_000;
    const used = process.cpuUsage(cpu);
    return { rowsPerSecond: ROWS / seconds, cpuMicrosPerRow: (used.user + used.system) / ROWS };
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const results: Record<'kysely' | 'prepared', { rowsPerSecond: number; cpuMicrosPerRow: number }[]> = { kysely: [], prepared: [] };
for (let round = 0; round < ROUNDS; round += 1) {
  results.kysely.push(await measure(false));
  results.prepared.push(await measure(true));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
for (const [name, runs] of Object.entries(results)) {
  console.log(
    `${name.padEnd(9)} ${Math.round(median(runs.map((run) => run.rowsPerSecond)))} rows/s, ${median(runs.map((run) => run.cpuMicrosPerRow)).toFixed(2)} µs CPU/row (median of ${ROUNDS} × ${ROWS} rows)`,
  );
}
