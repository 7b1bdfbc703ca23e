import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/storage/database.js';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { toLedgerRow } from '../../src/usage/ledger-row.js';
import { SqlLedger } from '../../src/usage/sql-ledger.js';
import { DIALECTS, openTestDatabase } from '../storage/test-databases.js';

/** Fails every INSERT while `down` is set: a database that went away. */
class Outage implements KyselyPlugin {
  down = false;
  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    if (this.down && node.kind === 'InsertQueryNode') throw new Error('database unavailable (test)');
    return node;
  }
  transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(result);
  }
}

class RecordingLogger {
  readonly lines: string[] = [];
  warn = (_obj: object, msg?: string) => void this.lines.push(msg ?? '');
  error = (_obj: object, msg?: string) => void this.lines.push(msg ?? '');
}

let sequence = 0;
function ledgerRecord(): LedgerRecord {
  sequence += 1;
  const startedAt = new Date(Date.UTC(2025, 0, 1, 0, 0, 0, sequence));
  return {
    requestId: `req_spill_${sequence}`,
    keyId: 'key_a',
    model: 'tiny',
    engine: 'e',
    stream: false,
    promptTokens: sequence,
    completionTokens: 1,
    usageSource: 'engine',
    finishReason: 'stop',
    outcome: 'completed',
    errorCode: null,
    status: 200,
    ttftMs: 1,
    durationMs: 2,
    startedAt,
    finishedAt: startedAt,
  };
}

async function spillFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.jsonl'));
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(DIALECTS)('SqlLedger spilling to disk on %s', (dialect) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let outage: Outage;
  let logger: RecordingLogger;
  let dir: string;
  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(dialect));
  });
  afterAll(() => dispose?.());
  beforeEach(async () => {
    await database.db.deleteFrom('usage_ledger').execute();
    outage = new Outage();
    logger = new RecordingLogger();
    dir = await mkdtemp(join(tmpdir(), 'oruel-spill-'));
    return () => rm(dir, { recursive: true, force: true });
  });

  const newLedger = (options: { maxQueued?: number; spillAfterMs?: number; flushTimeoutMs?: number } = {}) =>
    new SqlLedger(database.db.withPlugin(outage), {
      logger,
      retryBaseMs: 5,
      retryMaxMs: 20,
      spillDir: dir,
      spillAfterMs: 50,
      ...options,
    });
  const storedIds = async () =>
    (await database.db.selectFrom('usage_ledger').select('request_id').execute()).map((row) => row.request_id).sort();

  it('moves the queue to disk during a long outage and stores it, once, when the database is back', async () => {
    outage.down = true;
    const ledger = newLedger();
    const records = Array.from({ length: 30 }, ledgerRecord);
    for (const record of records) ledger.record(record);
    await waitFor(async () => (await spillFiles(dir)).length > 0);
    const written = (await readFile(join(dir, (await spillFiles(dir))[0]!), 'utf8')).trim().split('\n');
    expect(written).toHaveLength(30);
    expect(JSON.parse(written[0]!)).toEqual(toLedgerRow(records[0]!));
    ledger.record(ledgerRecord());

    outage.down = false;
    await ledger.flush();
    expect(await storedIds()).toHaveLength(31);
    expect(await spillFiles(dir)).toEqual([]);
    expect(logger.lines).toContain('database unavailable; usage records written to disk until it is back');
    expect(logger.lines).toContain('usage records from disk stored in the database');
    await ledger.close();
  });

  it('saves the queue to disk when closed while the database is down, and stores it at the next start', async () => {
    outage.down = true;
    const first = newLedger({ spillAfterMs: 60_000, flushTimeoutMs: 100 });
    const records = Array.from({ length: 5 }, ledgerRecord);
    for (const record of records) first.record(record);
    await expect(first.close()).resolves.toBeUndefined();
    expect(logger.lines).toContain(
      'database unavailable at shutdown; usage records saved to disk, stored at the next start',
    );
    expect(await spillFiles(dir)).toHaveLength(1);
    expect(await storedIds()).toEqual([]);

    outage.down = false;
    const second = newLedger();
    await waitFor(async () => (await spillFiles(dir)).length === 0);
    expect(await storedIds()).toEqual(records.map((record) => record.requestId).sort());
    await second.close();
  });

  it('sends records beyond maxQueued to disk instead of dropping them', async () => {
    outage.down = true;
    const ledger = newLedger({ maxQueued: 10, spillAfterMs: 60_000 });
    const records = Array.from({ length: 35 }, ledgerRecord);
    // Bursts of 12: the 11th record of each finds maxQueued rows waiting and sends them to disk.
    for (const [burst, start] of [0, 12, 24].entries()) {
      for (const record of records.slice(start, start + 12)) ledger.record(record);
      if (burst < 2) await waitFor(async () => (await spillFiles(dir)).length === burst + 1);
    }
    outage.down = false;
    await ledger.flush();
    expect(await storedIds()).toEqual(records.map((record) => record.requestId).sort());
    expect(logger.lines).not.toContain('usage ledger queue is full; dropping new records until the database recovers');
    await ledger.close();
  });

  it('replays files another replica left in a shared directory, skipping unreadable lines', async () => {
    const foreign = [ledgerRecord(), ledgerRecord()].map(toLedgerRow);
    await writeFile(
      join(dir, 'ledger-1700000000000-abcdef012345.jsonl'),
      `${JSON.stringify(foreign[0])}\n{"half a line\n${JSON.stringify(foreign[1])}\n`,
    );
    const ledger = newLedger();
    await waitFor(async () => (await spillFiles(dir)).length === 0);
    expect(await storedIds()).toEqual(foreign.map((row) => row.request_id).sort());
    expect(logger.lines).toContain('unreadable line in a ledger spill file; skipped');
    await ledger.close();
  });
});
