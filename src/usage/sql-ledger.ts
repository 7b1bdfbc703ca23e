import type { Kysely } from 'kysely';
import type { Logger } from '../storage/logger.js';
import type { DatabaseSchema, UsageLedgerTable } from '../storage/schema.js';
import type { Ledger, LedgerRecord, UsageQuery, UsageTotalsRow } from './ledger.js';
import { insertLedgerRows, selectLedgerRecords, selectUsageTotals } from './ledger-queries.js';
import { toLedgerRow } from './ledger-row.js';
import { retryDelayMs } from './retry-backoff.js';

export type { Logger } from '../storage/logger.js';

export interface SqlLedgerOptions {
  logger: Logger;
  /** Rows per INSERT statement (16 parameters each; SQLite allows 32766 per statement). */
  batchSize?: number;
  /** Records held in memory while the database fails; records beyond it are dropped and counted. */
  maxQueued?: number;
  /** First delay after a failed insert; it doubles up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long `flush()` waits for a failing database before it rejects. */
  flushTimeoutMs?: number;
}

const DEFAULTS = { batchSize: 100, maxQueued: 50_000, retryBaseMs: 200, retryMaxMs: 10_000, flushTimeoutMs: 15_000 };
const MAX_BATCH_SIZE = 1_000;
/** After the first failure, one log line per this many failed attempts, not one per attempt. */
const FAILURE_LOG_EVERY = 10;

/** flush() gave up: the database kept failing. The records stay queued and are still retried. */
export class LedgerFlushError extends Error {
  constructor(
    message: string,
    readonly unsaved: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LedgerFlushError';
  }
}

interface FlushWaiter {
  /** Resolved once this many records (counted since the ledger was created) are stored. */
  target: number;
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The ledger in the `usage_ledger` table, written off the request path: `record()` only queues, and
 * a background writer inserts the queue in batches. A failed insert keeps its rows at the head of
 * the queue and is retried with backoff, so records are stored in order and none is lost to a short
 * outage; only a queue full for longer than `maxQueued` records drops (and reports) new ones.
 * The ledger does not own the database: close the ledger, then the database.
 */
export class SqlLedger implements Ledger {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #logger: Logger;
  readonly #settings: Required<Omit<SqlLedgerOptions, 'logger'>>;
  readonly #queue: UsageLedgerTable[] = [];
  #accepted = 0;
  #stored = 0;
  #dropped = 0;
  #writing = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #failedAttempts = 0;
  #lastError: unknown = null;
  #waiters: FlushWaiter[] = [];
  #closing: Promise<void> | null = null;
  #stopped = false;

  constructor(db: Kysely<DatabaseSchema>, options: SqlLedgerOptions) {
    this.#db = db;
    this.#logger = options.logger;
    this.#settings = settingsFrom(options);
  }

  record(entry: LedgerRecord): void {
    if (this.#closing !== null) {
      this.#logger.error({ requestId: entry.requestId }, 'usage ledger is closed; record dropped');
      return;
    }
    if (this.#queue.length >= this.#settings.maxQueued) {
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
   * Resolves once every record queued before the call is stored. While the database fails, it
   * retries at once and then with backoff, and rejects with LedgerFlushError after `flushTimeoutMs`.
   */
  flush(): Promise<void> {
    const target = this.#accepted;
    if (this.#stored >= target) return Promise.resolve();
    this.#retryNow();
    return new Promise((resolve, reject) => {
      const waiter: FlushWaiter = { target, resolve, reject, timer: setTimeout(() => this.#expire(waiter), this.#settings.flushTimeoutMs) };
      this.#waiters.push(waiter);
    });
  }

  totals(query: UsageQuery): Promise<UsageTotalsRow[]> {
    return selectUsageTotals(this.#db, query);
  }

  rows(query: UsageQuery & { limit?: number }): Promise<LedgerRecord[]> {
    return selectLedgerRecords(this.#db, query);
  }

  /** Refuses new records, then flushes; rejects (after logging how many are lost) when the flush fails. */
  close(): Promise<void> {
    this.#closing ??= this.#flushAndStop();
    return this.#closing;
  }

  async #flushAndStop(): Promise<void> {
    try {
      await this.flush();
    } catch (error) {
      this.#logger.error({ err: error, lost: this.#queue.length }, 'usage ledger closed with records it could not store');
      throw error;
    } finally {
      this.#stopped = true;
      if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
  }

  #scheduleWrite(): void {
    if (this.#writing || this.#retryTimer !== null || this.#stopped) return;
    this.#writing = true;
    setImmediate(() => void this.#writeQueue());
  }

  #retryNow(): void {
    if (this.#retryTimer === null) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#scheduleWrite();
  }

  /** Runs until the queue is empty or an insert fails; records queued meanwhile join the same run. */
  async #writeQueue(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const batch = this.#queue.slice(0, this.#settings.batchSize);
      try {
        await insertLedgerRows(this.#db, batch);
      } catch (error) {
        this.#writing = false;
        this.#onWriteFailed(error);
        return;
      }
      this.#queue.splice(0, batch.length);
      this.#stored += batch.length;
      this.#onWriteSucceeded();
    }
    this.#writing = false;
  }

  #onWriteSucceeded(): void {
    if (this.#dropped > 0) {
      this.#logger.error({ dropped: this.#dropped }, 'usage ledger dropped records while its queue was full');
      this.#dropped = 0;
    }
    if (this.#failedAttempts > 0) this.#logger.warn({ failedAttempts: this.#failedAttempts }, 'usage ledger writes recovered');
    this.#failedAttempts = 0;
    this.#lastError = null;
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.target > this.#stored) return true;
      clearTimeout(waiter.timer);
      waiter.resolve();
      return false;
    });
  }

  #onWriteFailed(error: unknown): void {
    this.#failedAttempts += 1;
    this.#lastError = error;
    if (this.#stopped) return;
    const delayMs = retryDelayMs(this.#failedAttempts, this.#settings.retryBaseMs, this.#settings.retryMaxMs);
    if (this.#failedAttempts === 1 || this.#failedAttempts % FAILURE_LOG_EVERY === 0) {
      this.#logger.warn({ err: error, queued: this.#queue.length, failedAttempts: this.#failedAttempts, retryInMs: delayMs }, 'usage ledger insert failed; will retry');
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
      this.#logger.error({ maxQueued: this.#settings.maxQueued }, 'usage ledger queue is full; dropping new records until the database recovers');
    }
    this.#dropped += 1;
  }

  #expire(waiter: FlushWaiter): void {
    this.#waiters = this.#waiters.filter((other) => other !== waiter);
    const unsaved = this.#accepted - this.#stored;
    const reason = this.#lastError instanceof Error ? this.#lastError.message : 'the writer made no progress';
    waiter.reject(
      new LedgerFlushError(`Usage ledger flush timed out after ${this.#settings.flushTimeoutMs} ms with ${unsaved} records unsaved: ${reason}`, unsaved, {
        cause: this.#lastError ?? undefined,
      }),
    );
  }
}

function settingsFrom(options: SqlLedgerOptions): Required<Omit<SqlLedgerOptions, 'logger'>> {
  const settings = {
    batchSize: options.batchSize ?? DEFAULTS.batchSize,
    maxQueued: options.maxQueued ?? DEFAULTS.maxQueued,
    retryBaseMs: options.retryBaseMs ?? DEFAULTS.retryBaseMs,
    retryMaxMs: options.retryMaxMs ?? DEFAULTS.retryMaxMs,
    flushTimeoutMs: options.flushTimeoutMs ?? DEFAULTS.flushTimeoutMs,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`SqlLedger: ${name} must be a positive whole number, got ${value}.`);
  }
  if (settings.batchSize > MAX_BATCH_SIZE) throw new RangeError(`SqlLedger: batchSize is at most ${MAX_BATCH_SIZE}.`);
  return settings;
}
