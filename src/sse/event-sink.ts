type Headers = Record<string, string | number | string[]>;

/**
 * Where a stream's events go: the SSE writer, or a resumable stream (its log, and the writer while attached).
 * An event is an object, written as JSON.stringify writes it, or a string: that JSON already (an
 * assembler's template for its most frequent event), written as is.
 */
export interface EventSink {
  /** Status and headers are committed. */
  readonly isOpen: boolean;
  /** False once the client went away or the stream ended. */
  readonly writable: boolean;
  /** The client took the last write at once (else waiting deltas are merged). */
  readonly keepingUp: boolean;
  openIfStillWaiting(headers: Headers): void;
  open(headers?: Headers): void;
  /** The events as one write (with the headers, the first time). */
  send(events: readonly unknown[]): Promise<void>;
  /** The last events, `[DONE]` and the end of the response, in one write. */
  done(events?: readonly unknown[]): void;
  /** The end without `[DONE]` (after an error event, or a cancel). */
  end(): void;
}

/** An event's `data:` text: its JSON (a string event is its JSON already). */
export function eventJson(event: unknown): string {
  return typeof event === 'string' ? event : JSON.stringify(event);
}
