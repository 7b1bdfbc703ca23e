/**
 * The events of resumable streams, kept so a client that lost its connection can read them again
 * (`Last-Event-ID`), from this replica or another. In memory for one replica; Redis streams for many.
 */
export interface LoggedEvent {
  /** 1, 2, 3, ...: the SSE `id:` of the event. */
  seq: number;
  /** The event's `data:` text; for the terminal entry, `[DONE]` or null (the stream ended without it). */
  data: string | null;
  /** The stream's last entry: nothing follows. */
  terminal: boolean;
}

export interface StreamOwner {
  /** The API key that created the stream (null without auth): only it may resume. */
  keyId: string | null;
}

export class StreamGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamGoneError';
  }
}

export interface EventLog {
  create(id: string, owner: StreamOwner): Promise<void>;
  /** Appends in order (seq increasing by one); the caller chains calls, never overlaps them. */
  append(id: string, events: readonly LoggedEvent[]): Promise<void>;
  /** Null when the stream is unknown, expired or deleted. */
  owner(id: string): Promise<StreamOwner | null>;
  /**
   * The events after `afterSeq`: what is stored first, then each new one as it is appended, until the
   * terminal entry. Throws StreamGoneError when the events asked for are no longer kept (deleted,
   * trimmed by the length cap, or a gap). Ends early when `signal` aborts.
   */
  read(id: string, afterSeq: number, signal: AbortSignal): AsyncIterable<LoggedEvent>;
  /** A reader is attached now (heartbeat, refreshed while it reads). */
  touchReader(id: string): Promise<void>;
  /** When a reader last said it was attached (ms since epoch), or null. */
  readerSeenAt(id: string): Promise<number | null>;
  /** A reader received the terminal entry: the stream was delivered. */
  markDelivered(id: string): Promise<void>;
  delivered(id: string): Promise<boolean>;
  /** Forget the stream (its window passed): later reads and resumes find nothing. */
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}

export interface EventLogLimits {
  /** Events kept per stream (older ones are dropped; a resume that needs them gets a clear error). */
  maxEvents: number;
  /** Whatever happens to its owner, a stream's events are gone this long after its last append. */
  retentionMs: number;
}
