import type { FastifyReply } from 'fastify';

/**
 * One AbortSignal per request, fired when the client disconnects before the response is complete, or
 * when the server's drain deadline passes (then the response ends with an error, not silently).
 */
export class RequestCancellation {
  readonly #controller = new AbortController();
  readonly #dispose: () => void;
  readonly #detach: () => void;
  #clientGone = false;
  #shutdown = false;

  constructor(reply: FastifyReply, shutdown: AbortSignal) {
    const onClose = () => {
      if (reply.raw.writableFinished) return;
      this.#clientGone = true;
      this.#controller.abort(new Error('client disconnected'));
    };
    const onShutdown = () => {
      if (!this.#controller.signal.aborted) this.#shutdown = true;
      this.#controller.abort(shutdown.reason);
    };
    reply.raw.once('close', onClose);
    if (shutdown.aborted) onShutdown();
    else shutdown.addEventListener('abort', onShutdown, { once: true });
    this.#detach = () => reply.raw.off('close', onClose);
    this.#dispose = () => {
      this.#detach();
      shutdown.removeEventListener('abort', onShutdown);
    };
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The client went away: nobody is left to answer. */
  get clientGone(): boolean {
    return this.#clientGone;
  }

  /** Stopped by the server's shutdown while the client was still there. */
  get byShutdown(): boolean {
    return this.#shutdown && !this.#clientGone;
  }

  /**
   * From now on a client disconnect no longer cancels the work (a resumable stream goes on without its
   * client and cancels through `cancel`); the drain deadline still does.
   */
  detachFromClient(): void {
    this.#detach();
  }

  /** Stops the work for a reason of the server's own (a resumable stream nobody resumed in time). */
  cancel(reason: Error): void {
    this.#controller.abort(reason);
  }

  dispose(): void {
    this.#dispose();
  }
}
