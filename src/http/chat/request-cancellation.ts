import type { FastifyReply } from 'fastify';

/**
 * One AbortSignal per request, fired when the client disconnects before the response is complete, or
 * when the server's drain deadline passes (then the response ends with an error, not silently).
 */
export class RequestCancellation {
  readonly #controller = new AbortController();
  readonly #dispose: () => void;
  #clientGone = false;

  constructor(reply: FastifyReply, shutdown: AbortSignal) {
    const onClose = () => {
      if (reply.raw.writableFinished) return;
      this.#clientGone = true;
      this.#controller.abort(new Error('client disconnected'));
    };
    const onShutdown = () => this.#controller.abort(shutdown.reason);
    reply.raw.once('close', onClose);
    if (shutdown.aborted) onShutdown();
    else shutdown.addEventListener('abort', onShutdown, { once: true });
    this.#dispose = () => {
      reply.raw.off('close', onClose);
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
    return this.#controller.signal.aborted && !this.#clientGone;
  }

  dispose(): void {
    this.#dispose();
  }
}
