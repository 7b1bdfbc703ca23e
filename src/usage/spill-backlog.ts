import type { Logger } from '../logging/index.js';
import type { UsageLedgerTable } from '../storage/index.js';
import { LedgerSpill } from './ledger-spill.js';

/** After a failed write (disk full?), memory is the only place left; the disk is tried again after this. */
const WRITE_RETRY_MS = 1_000;

/**
 * The ledger's rows waiting on disk. It knows which files this process wrote, so that their rows
 * count as stored once they reach the database (whoever inserts them: a replica sharing the
 * directory may get there first), and whether any file may still wait.
 */
export class SpillBacklog {
  readonly #spill: LedgerSpill;
  readonly #logger: Logger;
  /** Files this process wrote and that are not in the database yet -> their row counts. */
  readonly #own = new Map<string, number>();
  #writeRetryAt = 0;
  /** Files may wait in the directory: ours, or left by an earlier run. True at start, to replay those. */
  replayDue = true;

  constructor(dir: string, logger: Logger) {
    this.#spill = new LedgerSpill(dir, logger);
    this.#logger = logger;
  }

  get dir(): string {
    return this.#spill.dir;
  }

  /** Rows this process put on disk that are not in the database yet. */
  get rowsOnDisk(): number {
    return [...this.#own.values()].reduce((sum, rows) => sum + rows, 0);
  }

  /** False for a moment after a failed write. */
  canWrite(): boolean {
    return Date.now() >= this.#writeRetryAt;
  }

  /** True once the rows are safely on disk; false (logged) when the disk failed. */
  async save(rows: UsageLedgerTable[]): Promise<boolean> {
    try {
      const file = await this.#spill.write(rows);
      this.#own.set(file, rows.length);
      this.replayDue = true;
      this.#logger.warn(
        { file, records: rows.length },
        'database unavailable; usage records written to disk until it is back',
      );
      return true;
    } catch (error) {
      this.#writeRetryAt = Date.now() + WRITE_RETRY_MS;
      this.#logger.error(
        { err: error, records: rows.length },
        'could not write usage records to disk; keeping them in memory',
      );
      return false;
    }
  }

  /**
   * Inserts the oldest file with `insert` and deletes it. Resolves with how many of this process's
   * rows reached the database meanwhile; throws when the database (or the disk) fails.
   */
  async replayOldest(insert: (rows: UsageLedgerTable[]) => Promise<void>): Promise<number> {
    // Only files known before the listing can be missing from it for having been replayed elsewhere.
    const knownBefore = [...this.#own.keys()];
    const files = await this.#spill.pending();
    let stored = knownBefore.filter((file) => !files.includes(file)).reduce((sum, file) => sum + this.#forget(file), 0);
    const file = files[0];
    if (file === undefined) {
      this.replayDue = false;
      return stored;
    }
    const rows = (await this.#spill.read(file)) ?? [];
    await insert(rows);
    await this.#spill.remove(file);
    stored += this.#forget(file);
    this.#logger.warn({ file, records: rows.length }, 'usage records from disk stored in the database');
    return stored;
  }

  #forget(file: string): number {
    const rows = this.#own.get(file) ?? 0;
    this.#own.delete(file);
    return rows;
  }
}
