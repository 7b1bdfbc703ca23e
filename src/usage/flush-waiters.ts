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

interface Waiter {
  /** Resolved once this many records (counted since the ledger was created) are stored. */
  target: number;
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** The callers of flush(), each waiting for the records accepted before its call. */
export class FlushWaiters {
  #waiters: Waiter[] = [];

  /** Resolves when `progress(target)` is called with at least `target`; rejects with `onTimeout()` after `timeoutMs`. */
  wait(target: number, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        target,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((other) => other !== waiter);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  progress(stored: number): void {
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.target > stored) return true;
      clearTimeout(waiter.timer);
      waiter.resolve();
      return false;
    });
  }
}
