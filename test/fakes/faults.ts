/** What the fake upstream can be told to do instead of answering well. */
export type Fault =
  /** An HTTP error with the dialect's error body (429 with `retry-after`, 500, 400, 401, ...). */
  | { kind: 'status'; status: number; message?: string; headers?: Record<string, string> }
  /** Sends `afterEvents` events, then destroys the socket (an engine crash). */
  | { kind: 'crash'; afterEvents: number }
  /** Sends `afterEvents` events, then the dialect's mid-stream error event, then ends. */
  | { kind: 'error-event'; afterEvents: number; message: string }
  /** Sends `afterEvents` events, then ends the body cleanly: no finish reason, no `[DONE]`. */
  | { kind: 'truncate'; afterEvents: number }
  /** Waits before the first event (headers go out at once, like vLLM's streaming response). */
  | { kind: 'slow-first-token'; delayMs: number }
  /** Sends the headers, then nothing, ever (until the client gives up). */
  | { kind: 'hang' }
  /** Sends the whole stream, `[DONE]` included, but never ends the response. */
  | { kind: 'hold-after-done' }
  /** Answers a streaming request with the non-streamed JSON completion (an upstream that ignores `stream`). */
  | { kind: 'ignore-stream' };
