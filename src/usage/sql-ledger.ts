import type { Kysely } from 'kysely';
import type { Logger } from '../logging/index.js';
import type { DatabaseSchema, UsageLedgerTable } from '../storage/index.js';
import { FlushWaiters, LedgerFlushError } from './flush-waiters.js';
import type {
  LatencyRow,
  Ledger,
  LedgerRecord,
  SeriesBucket,
  UsageQuery,
  UsageSeriesRow,
  UsageTotalsRow,
} from './ledger.js';
import { selectLatency, selectUsageSeries } from './ledger-aggregates.js';
import { insertLedgerRows, selectLedgerRecords, selectUsageTotals } from './ledger-queries.js';
import { toLedgerRow } from './ledger-row.js';
import { retryDelayMs } from './retry-backoff.js';
import { SpillBacklog } from './spill-backlog.js';
import type { LedgerRowWriter } from './sqlite-row-writer.js';

export type { Logger } from '../logging/index.js';
export { LedgerFlushError } from './flush-waiters.js';

export interface SqlLedgerOptions {
  logger: Logger;
  /** Rows per INSERT statement (16 parameters each; SQLite allows 32766 per statement). */
  batchSize?: number;
  /** Records held in memory while the database fails; beyond it they go to disk (or, without a spill directory, are dropped and counted). */
  maxQueued?: number;
  /** First delay after a failed insert; it doubles up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long `flush()` waits for a failing database before it rejects. */
  flushTimeoutMs?: number;
  /** Where rows wait on disk during a long outage, and at shutdown when the database is down. Absent: memory only. */
  spillDir?: string | null;
  /** The database must have failed this long before queued rows go to disk. */
  spillAfterMs?: number;
  /** Stores one batch; absent: a Kysely INSERT (see `sqliteRowWriter` for SQLite's faster path). */
  writeRows?: LedgerRowWriter;
}

export interface LedgerStats {
  /** Rows this process stored in the database (spilled ones once replayed). */
  rowsWritten: number;
  writeErrors: number;
  /** Rows this process put on disk that are not in the database yet. */
  spilledRows: number;
  /** Rows waiting in memory. */
  queuedRows: number;
}

type Settings = Required<Omit<SqlLedgerOptions, 'logger' | 'spillDir' | 'writeRows'>>;

const DEFAULTS: Settings = {
  batchSize: 100,
  maxQueued: 50_000,
  retryBaseMs: 200,
  retryMaxMs: 10_000,
  flushTimeoutMs: 15_000,
  spillAfterMs: 5_000,
};
const MAX_BATCH_SIZE = 1_000;
/** After the first failure, one log line per this many failed attempts, not one per attempt. */
const FAILURE_LOG_EVERY = 10;

/**
 * The ledger in the `usage_ledger` table, written off the request path: `record()` only queues, and
 * a background writer inserts the queue in batches. A failed insert puts its rows back at the head
 * of the queue and is retried with backoff. When the database stays down (longer than
 * `spillAfterMs`, or more than `maxQueued` rows), the queue moves to files in `spillDir`, which are
 * inserted once the database answers again, and at the next start if the process ends first.
 * The ledger does not own the database: close the ledger, then the database.
 */
export class SqlLedger implements Ledger {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #logger: Logger;
  readonly #settings: Settings;
  readonly #backlog: SpillBacklog | null;
  readonly #writeRows: LedgerRowWriter;
  readonly #waiters = new FlushWaiters();
  #queue: UsageLedgerTable[] = [];
  /** The batch being inserted, out of the queue until the insert settles. */
  #inFlight: UsageLedgerTable[] = [];
  #accepted = 0;
  #stored = 0;
  #dropped = 0;
  /** Failed inserts (each retry counts), for /metrics. */
  #writeErrors = 0;
  #writer: Promise<void> | null = null;
  #spillWrite: Promise<void> | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #failedAttempts = 0;
  #failingSince: number | null = null;
  #lastError: unknown = null;
  #closing: Promise<void> | null = null;
  #stopped = false;

  constructor(db: Kysely<DatabaseSchema>, options: SqlLedgerOptions) {
    this.#db = db;
    this.#logger = options.logger;
    this.#settings = settingsFrom(options);
    this.#writeRows = options.writeRows ?? ((rows) => insertLedgerRows(db, rows));
    this.#backlog = options.spillDir ? new SpillBacklog(options.spillDir, options.logger) : null;
    // Rows an earlier run left on disk are stored first.
    if (this.#backlog !== null) this.#scheduleWrite();
  }

  record(entry: LedgerRecord): void {
    if (this.#closing !== null) {
      this.#logger.error({ requestId: entry.requestId }, 'usage ledger is closed; record dropped');
      return;
    }
    if (this.#held() >= this.#settings.maxQueued) this.#spillQueue();
    if (this.#held() >= this.#memoryLimit()) {
      this.#noteDropped();
      return;
    }
    let row: UsageLedgerTable;
    try {
      row = toLedgerRow(entry);
    } catch (error) {
      // Only a record that breaks its type gets here; the request it describes has already been answered.
      this.#logger.error({ err: error, requestId: entry.requestId }, 'usage ledger record is malformed; dropped');
      return;
    }
    this.#queue.push(row);
    this.#accepted += 1;
    this.#scheduleWrite();
  }

  /**
   * Resolves once every record accepted before the call is in the database (spilled ones included).
   * While the database fails, it retries at once and then with backoff, and rejects with
   * LedgerFlushError after `flushTimeoutMs`.
   */
  flush(): Promise<void> {
    const target = this.#accepted;
    if (this.#stored >= target) return Promise.resolve();
    this.#retryNow();
    return this.#waiters.wait(target, this.#settings.flushTimeoutMs, () => this.#flushTimeoutError());
  }

  /** Counts for /metrics, read when scraped (nothing is counted twice on the request path). */
  get stats(): LedgerStats {
    return {
      rowsWritten: this.#stored,
      writeErrors: this.#writeErrors,
      spilledRows: this.#backlog?.rowsOnDisk ?? 0,
      queuedRows: this.#held(),
    };
  }

  totals(query: UsageQuery): Promise<UsageTotalsRow[]> {
    return selectUsageTotals(this.#db, query);
  }

  series(query: UsageQuery, bucket: SeriesBucket): Promise<UsageSeriesRow[]> {
    return selectUsageSeries(this.#db, query, bucket);
  }

  latency(query: UsageQuery): Promise<LatencyRow[]> {
    return selectLatency(this.#db, query);
  }

  rows(query: UsageQuery & { limit?: number }): Promise<LedgerRecord[]> {
    return selectLedgerRecords(this.#db, query);
  }

  /**
   * Refuses new records, then flushes. If the database is still down, the rows go to the spill
   * directory and close() resolves; without one (or if the disk fails too) it rejects after
   * logging how many records are lost.
   */
  close(): Promise<void> {
    this.#closing ??= this.#flushAndStop();
    return this.#closing;
  }

  async #flushAndStop(): Promise<void> {
    let failure: unknown = null;
    await this.flush().catch((error: unknown) => (failure = error));
    this.#stop();
    await this.#writer;
    await this.#spillWrite;
    if (failure === null) return;
    if (this.#backlog !== null && (await this.#spillRemaining(this.#backlog))) return;
    this.#logger.error(
      { err: failure, lost: this.#queue.length },
      'usage ledger closed with records it could not store',
    );
    throw failure;
  }

  /** At shutdown with the database down: true once every unsaved row is on disk. */
  async #spillRemaining(backlog: SpillBacklog): Promise<boolean> {
    if (this.#queue.length > 0 && !(await backlog.save(this.#queue.splice(0)))) return false;
    this.#logger.warn(
      { records: backlog.rowsOnDisk, spillDir: backlog.dir },
      'database unavailable at shutdown; usage records saved to disk, stored at the next start',
    );
    return true;
  }

  #stop(): void {
    this.#stopped = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /** While one spill is being written, another maxQueued rows may gather for the next; only then are rows dropped. */
  #memoryLimit(): number {
    return this.#backlog === null ? this.#settings.maxQueued : 2 * this.#settings.maxQueued;
  }

  /** Rows waiting in memory (rows being written to disk are on their way out and do not count). */
  #held(): number {
    return this.#queue.length + this.#inFlight.length;
  }

  #scheduleWrite(): void {
    if (this.#writer !== null || this.#retryTimer !== null || this.#stopped) return;
    this.#writer = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#writeLoop())
      .finally(() => {
        this.#writer = null;
        // A record that came after the loop's last look at the queue (in the same run of microtasks)
        // found a writer still set and scheduled none; without this it would wait for the next record.
        if (this.#queue.length > 0) this.#scheduleWrite();
      });
  }

  #retryNow(): void {
    if (this.#retryTimer === null) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#scheduleWrite();
  }

  /** Runs until there is nothing to write or a write fails; records queued meanwhile join the same run. */
  async #writeLoop(): Promise<void> {
    while (!this.#stopped) {
      let progressed: boolean;
      if (this.#queue.length > 0) progressed = await this.#writeBatch();
      else if (this.#backlog?.replayDue) progressed = await this.#replayOneFile(this.#backlog);
      else return;
      if (!progressed) return;
    }
  }

  async #writeBatch(): Promise<boolean> {
    this.#inFlight = this.#queue.splice(0, this.#settings.batchSize);
    try {
      await this.#writeRows(this.#inFlight);
    } catch (error) {
      this.#queue.unshift(...this.#inFlight);
      this.#inFlight = [];
      this.#onWriteFailed(error);
      return false;
    }
    this.#stored += this.#inFlight.length;
    this.#inFlight = [];
    this.#onWriteSucceeded();
    return true;
  }

  /** Inserts the oldest spill file; the rows of this ledger's files count as stored then. */
  async #replayOneFile(backlog: SpillBacklog): Promise<boolean> {
    try {
      this.#stored += await backlog.replayOldest((rows) => this.#insertInBatches(rows));
    } catch (error) {
      this.#onWriteFailed(error);
      return false;
    }
    this.#onWriteSucceeded();
    return true;
  }

  async #insertInBatches(rows: UsageLedgerTable[]): Promise<void> {
    for (let start = 0; start < rows.length; start += this.#settings.batchSize) {
      await this.#writeRows(rows.slice(start, start + this.#settings.batchSize));
    }
  }

  /** Moves the queue to a spill file (one write at a time); on failure the rows return to the queue. */
  #spillQueue(): void {
    const backlog = this.#backlog;
    if (backlog === null || this.#spillWrite !== null || this.#queue.length === 0 || !backlog.canWrite()) return;
    const rows = this.#queue.splice(0);
    this.#spillWrite = backlog
      .save(rows)
      .then((saved) => {
        if (!saved) this.#queue.unshift(...rows);
        // The writer may have finished its last replay before this file existed; this one needs one too.
        else this.#scheduleWrite();
      })
      .finally(() => {
        this.#spillWrite = null;
        // Rows that gathered during the write go next, without waiting for another record to arrive.
        if (this.#held() >= this.#settings.maxQueued && !this.#stopped) this.#spillQueue();
      });
  }

  #onWriteSucceeded(): void {
    if (this.#dropped > 0) {
      this.#logger.error({ dropped: this.#dropped }, 'usage ledger dropped records while its queue was full');
      this.#dropped = 0;
    }
    if (this.#failedAttempts > 0)
      this.#logger.warn({ failedAttempts: this.#failedAttempts }, 'usage ledger writes recovered');
    this.#failedAttempts = 0;
    this.#failingSince = null;
    this.#lastError = null;
    this.#waiters.progress(this.#stored);
  }

  #onWriteFailed(error: unknown): void {
    this.#failedAttempts += 1;
    this.#writeErrors += 1;
    this.#lastError = error;
    this.#failingSince ??= Date.now();
    if (this.#stopped) return;
    if (Date.now() - this.#failingSince >= this.#settings.spillAfterMs) this.#spillQueue();
    const delayMs = retryDelayMs(this.#failedAttempts, this.#settings.retryBaseMs, this.#settings.retryMaxMs);
    if (this.#failedAttempts === 1 || this.#failedAttempts % FAILURE_LOG_EVERY === 0) {
      this.#logger.warn(
        { err: error, queued: this.#held(), failedAttempts: this.#failedAttempts, retryInMs: delayMs },
        'usage ledger insert failed; will retry',
      );
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#scheduleWrite();
    }, delayMs);
    // Pending retries alone do not keep a process alive; close() is what waits for them.
    this.#retryTimer.unref();
  }

  #noteDropped(): void {
    if (this.#dropped === 0) {
      this.#logger.error(
        { maxQueued: this.#settings.maxQueued },
        'usage ledger queue is full; dropping new records until the database recovers',
      );
    }
    this.#dropped += 1;
  }

  #flushTimeoutError(): LedgerFlushError {
    const unsaved = this.#accepted - this.#stored;
    const reason = this.#lastError instanceof Error ? this.#lastError.message : 'the writer made no progress';
    return new LedgerFlushError(
      `Usage ledger flush timed out after ${this.#settings.flushTimeoutMs} ms with ${unsaved} records unsaved: ${reason}`,
      unsaved,
      {
        cause: this.#lastError ?? undefined,
      },
    );
  }
}

function settingsFrom(options: SqlLedgerOptions): Settings {
  const settings: Settings = { ...DEFAULTS };
  for (const name of Object.keys(DEFAULTS) as (keyof Settings)[]) settings[name] = options[name] ?? DEFAULTS[name];
  for (const [name, value] of Object.entries(settings)) {
    const minimum = name === 'spillAfterMs' ? 0 : 1;
    if (!Number.isInteger(value) || value < minimum)
      throw new RangeError(`SqlLedger: ${name} must be a whole number of at least ${minimum}, got ${value}.`);
  }
  if (settings.batchSize > MAX_BATCH_SIZE) throw new RangeError(`SqlLedger: batchSize is at most ${MAX_BATCH_SIZE}.`);
  return settings;
}
