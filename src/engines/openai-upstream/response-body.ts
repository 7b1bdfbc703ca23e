import type { EngineError } from '../engine-error.js';
import { BodyCollector } from './body-collector.js';
import { readErrorText } from './error-body.js';
import { asRecord, parseJson, type JsonRecord } from './json-value.js';
import { readResponseHeaders } from './raw-headers.js';
import { parseRetryAfter } from './retry-after.js';
import { SseReader, type SseReaderCallbacks } from './sse-reader.js';
import { errorFromStatus } from './upstream-errors.js';

const ERROR_BODY_LIMIT = 64 * 1024;
const COMPLETION_BODY_LIMIT = 32 * 1024 * 1024;

/** What a response body turned out to be, once it ended. */
export type BodyEnd =
  /** An event stream: its events were already delivered as they came. */
  | { kind: 'events' }
  /** A JSON body on a 2xx: the completion, or null if it was not one. */
  | { kind: 'completion'; completion: JsonRecord | null }
  /** A non-2xx status: the contract error it means. */
  | { kind: 'status-error'; error: EngineError }
  /** No headers ever came. */
  | { kind: 'nothing' };

type Mode =
  | { kind: 'none' }
  | { kind: 'events'; reader: SseReader }
  | { kind: 'completion'; body: BodyCollector }
  | { kind: 'status-error'; status: number; retryAfterMs: number | undefined; body: BodyCollector };

/**
 * Reads one upstream response body according to its status and content type: events are parsed and
 * delivered as they arrive; a completion or an error body is collected (bounded) and read at the end.
 */
export class ResponseBody {
  private mode: Mode = { kind: 'none' };

  constructor(
    private readonly events: SseReaderCallbacks,
    private readonly streamRequested: boolean,
  ) {}

  /** True for an event stream (whose silence the idle deadline watches). */
  get isEventStream(): boolean {
    return this.mode.kind === 'events';
  }

  begin(status: number, rawHeaders: readonly Buffer[]): void {
    const headers = readResponseHeaders(rawHeaders);
    if (status >= 300) {
      const retryAfterMs = parseRetryAfter(headers.retryAfterMs, headers.retryAfter);
      this.mode = { kind: 'status-error', status, retryAfterMs, body: new BodyCollector(ERROR_BODY_LIMIT) };
    } else if (readsAsEventStream(headers.contentType, this.streamRequested)) {
      this.mode = { kind: 'events', reader: new SseReader(this.events) };
    } else {
      // A JSON completion: asked for (non-streaming), or an upstream that ignored `stream: true`.
      this.mode = { kind: 'completion', body: new BodyCollector(COMPLETION_BODY_LIMIT) };
    }
  }

  add(chunk: Buffer): void {
    const mode = this.mode;
    if (mode.kind === 'events') mode.reader.feed(chunk);
    else if (mode.kind !== 'none') mode.body.add(chunk);
  }

  end(): BodyEnd {
    const mode = this.mode;
    switch (mode.kind) {
      case 'events':
        mode.reader.end();
        return { kind: 'events' };
      case 'completion':
        return { kind: 'completion', completion: mode.body.truncated ? null : asRecord(parseJson(mode.body.text())) };
      case 'status-error':
        return {
          kind: 'status-error',
          error: errorFromStatus(mode.status, readErrorText(mode.body.text()), mode.retryAfterMs),
        };
      case 'none':
        return { kind: 'nothing' };
    }
  }
}

/**
 * SSE by content type; a body of another or no declared type is read as what was asked for (some
 * proxies send streams as text/plain), except JSON, which is a completion whatever was asked.
 */
function readsAsEventStream(contentType: string, streamRequested: boolean): boolean {
  if (contentType.includes('text/event-stream')) return true;
  if (contentType.includes('json')) return false;
  return streamRequested;
}
