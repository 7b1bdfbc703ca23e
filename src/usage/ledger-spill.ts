import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging/index.js';
import type { UsageLedgerTable } from '../storage/index.js';

const FILE_PATTERN = /^ledger-\d+-[0-9a-f]+\.jsonl$/;

/**
 * Ledger rows waiting on disk while the database is down: one JSON row per line, one file per
 * spill. A file appears complete or not at all (written under a temporary name, synced, renamed),
 * so a crash mid-write loses nothing already on disk and a reader never sees half a file.
 * Replaying twice is harmless: the ledger skips request ids it already stored.
 */
export class LedgerSpill {
  readonly #dir: string;
  readonly #logger: Logger;

  constructor(dir: string, logger: Logger) {
    this.#dir = dir;
    this.#logger = logger;
  }

  get dir(): string {
    return this.#dir;
  }

  /** Writes the rows to a new file and returns its name. */
  async write(rows: readonly UsageLedgerTable[]): Promise<string> {
    await mkdir(this.#dir, { recursive: true });
    // Time first so names sort oldest first; random bytes keep replicas sharing a directory apart.
    const name = `ledger-${Date.now()}-${randomBytes(6).toString('hex')}.jsonl`;
    const temporary = join(this.#dir, `.${name}.tmp`);
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, join(this.#dir, name));
    return name;
  }

  /** Names of the files waiting, oldest first (none when the directory does not exist). */
  async pending(): Promise<string[]> {
    try {
      return (await readdir(this.#dir)).filter((name) => FILE_PATTERN.test(name)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** The rows of one file; null when it is gone (another replica sharing the directory replayed it). */
  async read(name: string): Promise<UsageLedgerTable[] | null> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const rows: UsageLedgerTable[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const row = parseRow(line);
      if (row === null)
        this.#logger.error({ file: name, line: line.slice(0, 200) }, 'unreadable line in a ledger spill file; skipped');
      else rows.push(row);
    }
    return rows;
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.#dir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/** The row as written by `write`; anything else (a hand-edited file) is refused line by line. */
function parseRow(line: string): UsageLedgerTable | null {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return null;
    const row = value as Partial<UsageLedgerTable>;
    if (
      typeof row.request_id !== 'string' ||
      typeof row.model !== 'string' ||
      typeof row.outcome !== 'string' ||
      typeof row.started_at !== 'number'
    )
      return null;
    return value as UsageLedgerTable;
  } catch {
    return null;
  }
}
