import { EngineError } from '../engine-error.js';

/** How well a free slot suits a request (higher is better): the tokens of its prompt the slot already holds. */
export type SlotScore<T> = (slot: T) => number;

interface Waiter<T> {
  count: number;
  score: SlotScore<T> | null;
  resolve: (slots: T[]) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * K generation slots (context sequences) shared by all requests of one model.
 * Requests that find no free slot wait in FIFO order in a bounded queue; first come, first served,
 * so a request for several slots (n > 1) is not starved by single-slot requests behind it.
 *
 * Which free slot a request gets: the one that scores highest (the longest prefix of its prompt already
 * evaluated there, so a chat's next turn lands where its history is), and among equals the least
 * recently used, whose state is the one a new conversation overwrites.
 */
export class SequencePool<T> {
  /** Free slots, least recently used first (a released slot goes to the end). */
  private readonly free: T[];
  private readonly waiters: Waiter<T>[] = [];

  constructor(
    private readonly slots: readonly T[],
    private readonly maxQueue: number,
  ) {
    this.free = [...slots];
  }

  /** Whether a request for `count` slots would be served or queued now (false: the queue is full). */
  canAdmit(count: number): boolean {
    return (this.waiters.length === 0 && this.free.length >= count) || this.waiters.length < this.maxQueue;
  }

  /** Any slot, for work that only reads shared state (the chat template, the tokenizer). */
  peek(): T {
    const slot = this.slots[0];
    if (slot === undefined) throw new Error('empty sequence pool');
    return slot;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Slots taken by requests now. */
  get busy(): number {
    return this.slots.length - this.free.length;
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * Takes `count` slots, waiting if none are free. Throws `overloaded` at once when the queue is full,
   * so the caller can answer 503 before any byte is sent. `score` ranks free slots at the moment they
   * are handed out (without it: least recently used first).
   */
  acquire(count: number, signal: AbortSignal, score: SlotScore<T> | null = null): Promise<T[]> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.waiters.length === 0 && this.free.length >= count) return Promise.resolve(this.take(count, score));
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(
        new EngineError('overloaded', 'The model is busy and its request queue is full; retry shortly.', {
          retryable: true,
          retryAfterMs: 1000,
        }),
      );
    }
    return new Promise<T[]>((resolve, reject) => {
      const waiter: Waiter<T> = {
        count,
        score,
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.removeWaiter(waiter);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(slot: T): void {
    this.free.push(slot);
    this.serveWaiters();
  }

  /** Rejects every waiter (engine shutting down). */
  rejectAll(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.reject(error);
    }
  }

  private take(count: number, score: SlotScore<T> | null): T[] {
    if (!score || count >= this.free.length) return this.free.splice(0, count);
    // A stable sort keeps least-recently-used order among equal scores.
    const ranked = this.free
      .map((slot, index) => ({ slot, index, score: score(slot) }))
      .sort((a, b) => b.score - a.score || a.index - b.index);
    const taken = ranked.slice(0, count).map((entry) => entry.slot);
    for (const slot of taken) this.free.splice(this.free.indexOf(slot), 1);
    return taken;
  }

  private serveWaiters(): void {
    for (let head = this.waiters[0]; head && this.free.length >= head.count; head = this.waiters[0]) {
      this.waiters.shift();
      head.signal.removeEventListener('abort', head.onAbort);
      head.resolve(this.take(head.count, head.score));
    }
  }

  private removeWaiter(waiter: Waiter<T>): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    // The departed head may have been blocking smaller requests behind it.
    this.serveWaiters();
  }
}
