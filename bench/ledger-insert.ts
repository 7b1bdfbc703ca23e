/**
 * `npx tsx bench/ledger-insert.ts [POSTGRES_URL]`: rows per second and CPU per row (this process) of
 * the usage ledger alone, through Kysely's multi-row INSERT (compiled, and on SQLite prepared, per
 * batch) and through the dialect's writer (`sqliteRowWriter`: one prepared statement reused, one
 * transaction per batch; `postgresRowWriter`: one fixed-shape INSERT of column arrays). Both run in
 * the same process on fresh tables, alternating, so machine noise hits them alike. SQLite by default;
 * with a Postgres URL, that database's usage_ledger is emptied and used.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/storage/database.js';
import { postgresRowWriter } from '../src/usage/postgres-row-writer.js';
import { insertLedgerRows } from '../src/usage/ledger-queries.js';
import type { LedgerRecord } from '../src/usage/ledger.js';
import { SqlLedger } from '../src/usage/sql-ledger.js';
import { sqliteRowWriter } from '../src/usage/sqlite-row-writer.js';

const POSTGRES_URL = process.argv[2];
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
  const database = await openDatabase(POSTGRES_URL ?? `sqlite:${join(dir, 'ledger.db')}`);
  try {
    await database.db.deleteFrom('usage_ledger').execute();
    const handle = database.sqliteHandle;
    const fastWriter =
      handle === null
        ? postgresRowWriter(database.db)
        : sqliteRowWriter(handle, (rows) => insertLedgerRows(database.db, rows));
    const writeRows = prepared ? fastWriter : undefined;
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
    if (POSTGRES_URL !== undefined) await database.db.deleteFrom('usage_ledger').execute();
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const results: Record<'kysely' | 'writer', { rowsPerSecond: number; cpuMicrosPerRow: number }[]> = {
  kysely: [],
  writer: [],
};
for (let round = 0; round < ROUNDS; round += 1) {
  results.kysely.push(await measure(false));
  results.writer.push(await measure(true));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
for (const [name, runs] of Object.entries(results)) {
  console.log(
    `${POSTGRES_URL === undefined ? 'sqlite' : 'postgres'} ` +
      `${name.padEnd(9)} ${Math.round(median(runs.map((run) => run.rowsPerSecond)))} rows/s, ${median(runs.map((run) => run.cpuMicrosPerRow)).toFixed(2)} µs CPU/row (median of ${ROUNDS} × ${ROWS} rows)`,
  );
}
