import { setMaxListeners } from 'node:events';
import { GatewayError, retryAfterHeaders } from '../errors/index.js';

/**
 * The server's shutdown state, shared by the HTTP hooks and the chat route: whether new requests are
 * still taken, how many are still running, and the signal that cuts running streams off at the deadline.
 */
export class Drain {
  #draining = false;
  #running = 0;
  #idleWaiters: (() => void)[] = [];
  readonly #deadline = new AbortController();

  constructor() {
    // Every running request listens to the deadline (and stops listening when it ends): 11 concurrent
    // requests are normal, not the leak Node's default warning at 10 listeners assumes.
    setMaxListeners(0, this.#deadline.signal);
  }

  /** True from the first shutdown signal: new requests get 503. */
  get draining(): boolean {
    return this.#draining;
  }

  get running(): number {
    return this.#running;
  }

  /** Aborted when the drain deadline passes (or at a second signal): running requests end with an error. */
  get deadlineSignal(): AbortSignal {
    return this.#deadline.signal;
  }

  begin(): void {
    this.#draining = true;
  }

  expire(): void {
    this.#draining = true;
    if (!this.#deadline.signal.aborted) this.#deadline.abort(shuttingDownError());
  }

  /** Counts one piece of work as running; call the returned function (once or more) when it is over. */
  enter(): () => void {
    this.#running += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#running -= 1;
      if (this.#running === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    };
  }

  /** True once nothing runs; false when `timeoutMs` passes or `cutShort` settles first. */
  whenIdle(timeoutMs: number, cutShort?: Promise<unknown>): Promise<boolean> {
    if (this.#running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (idle: boolean) => {
        clearTimeout(timer);
        this.#idleWaiters = this.#idleWaiters.filter((waiter) => waiter !== onIdle);
        resolve(idle);
      };
      const onIdle = () => finish(true);
      this.#idleWaiters.push(onIdle);
      const timer = setTimeout(() => finish(false), timeoutMs);
      void cutShort?.then(
        () => finish(this.#running === 0),
        () => finish(this.#running === 0),
      );
    });
  }
}

/** What a request refused or cut off by a shutdown gets: 503, and a hint to retry (elsewhere) at once. */
export function shuttingDownError(): GatewayError {
  return new GatewayError('shutting_down', 'The server is shutting down; retry the request.', {
    headers: retryAfterHeaders(1_000),
  });
}
