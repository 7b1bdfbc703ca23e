import type { ServerResponse } from 'node:http';
import type { Logger } from '../../logging/index.js';
import { sseEvent, type SseWriter } from '../sse-writer.js';
import type { EventLog, LoggedEvent } from './event-log.js';
import { eventJson, type EventSink } from '../event-sink.js';

/** The response header that names a resumable stream (the `{id}` of GET /chat/completions/{id}/stream). */
export const STREAM_ID_HEADER = 'oruel-stream-id';

/** How long a stream some client received whole is kept for a reconnect that lost the last bytes. */
const LINGER_MS = 10_000;

export interface ResumableStreamOptions {
  log: EventLog;
  logger: Logger;
  /** How long generation goes on without any client attached before it is cancelled. */
  graceMs: number;
  /** Cancels the work (the request's AbortSignal). */
  cancel: (reason: Error) => void;
}

/**
 * The sink of an opted-in stream: every event gets a sequence number, goes to the event log (in order,
 * without waiting for it) and, while the original client is connected, to it with its `id:` line. When
 * that client goes away after the stream opened, generation continues; a watchdog cancels it once no
 * client (here or on another replica, seen through the log's reader heartbeat) has been attached for
 * `graceMs`, and then forgets the events, so a later resume is a clear 404.
 */
export class ResumableStream implements EventSink {
  private seq = 0;
  private appending: Promise<void> = Promise.resolve();
  private appendFailed = false;
  private watchdog: NodeJS.Timeout | null = null;
  private lastAttachedAt = Date.now();
  private over = false;
  private checking = false;
  /** The window passed with nobody attached: the work was cancelled and the events forgotten. */
  expired = false;

  constructor(
    readonly id: string,
    private readonly writer: SseWriter,
    response: ServerResponse,
    private readonly options: ResumableStreamOptions,
  ) {
    response.once('close', () => {
      if (response.writableFinished) return;
      // Before the stream opened the client never learned the id: nothing can resume it.
      if (!writer.isOpen) options.cancel(new Error('client disconnected'));
      else this.startWatchdog();
    });
  }

  get isOpen(): boolean {
    return this.writer.isOpen;
  }

  get writable(): boolean {
    return this.writer.writable;
  }

  /** Whether the attached client keeps up (waiting deltas are merged when it does not). */
  get keepingUp(): boolean {
    return this.writer.keepingUp;
  }

  openIfStillWaiting(headers: Record<string, string | number | string[]>): void {
    this.writer.openIfStillWaiting({ ...headers, [STREAM_ID_HEADER]: this.id });
  }

  open(headers: Record<string, string | number | string[]> = {}): void {
    this.writer.open({ ...headers, [STREAM_ID_HEADER]: this.id });
  }

  async send(events: readonly unknown[]): Promise<void> {
    if (events.length === 0) return;
    const text = this.log(events);
    if (this.writer.writable) await this.writer.sendText(text);
  }

  /** The last events and `[DONE]` (with its id) leave with the end of the response, in one write. */
  done(events: readonly unknown[] = []): void {
    const text = this.log(events);
    const last = { seq: ++this.seq, data: '[DONE]', terminal: true };
    this.append([last]);
    const attached = this.writer.writable;
    this.writer.finish(text + sseEvent(last.seq, '[DONE]'));
    if (attached) this.forgetSoon();
  }

  end(): void {
    this.append([{ seq: ++this.seq, data: null, terminal: true }]);
    const attached = this.writer.writable;
    this.writer.end();
    if (attached && this.writer.isOpen) this.forgetSoon();
  }

  /** Numbers the events, queues them for the log and returns them framed with their `id:` lines. */
  private log(events: readonly unknown[]): string {
    const logged = events.map((event) => ({ seq: ++this.seq, data: eventJson(event), terminal: false }));
    if (logged.length > 0) this.append(logged);
    return logged.map((event) => sseEvent(event.seq, event.data)).join('');
  }

  /** Every event is in the log (or the log failed); call when the work is over. */
  async settled(): Promise<void> {
    this.over = true;
    await this.appending;
    // A stream that failed before it opened was never announced: keep nothing.
    if (!this.writer.isOpen) await this.options.log.delete(this.id).catch(() => undefined);
  }

  private append(events: LoggedEvent[]): void {
    if (this.expired) return;
    this.appending = this.appending.then(() =>
      this.options.log.append(this.id, events).catch((error: unknown) => {
        // The live client is unaffected; a resume of this stream will see the gap and say so.
        if (!this.appendFailed)
          this.options.logger.warn({ err: error, stream: this.id }, 'resumable stream: storing events failed');
        this.appendFailed = true;
      }),
    );
  }

  /**
   * The whole stream reached a client: its events are kept only a little longer (for a client whose
   * last bytes were lost on the way), not for the whole retention, so memory or Redis holds little.
   */
  private forgetSoon(): void {
    this.stopWatchdog();
    const timer = setTimeout(
      () => {
        void this.appending.then(() => this.options.log.delete(this.id)).catch(() => undefined);
      },
      Math.min(this.options.graceMs, LINGER_MS),
    );
    timer.unref();
  }

  private startWatchdog(): void {
    this.lastAttachedAt = Date.now();
    const interval = Math.max(20, Math.min(1_000, Math.floor(this.options.graceMs / 4)));
    this.watchdog = setInterval(() => {
      if (this.checking) return;
      this.checking = true;
      void this.check().finally(() => (this.checking = false));
    }, interval);
    this.watchdog.unref();
  }

  private async check(): Promise<void> {
    try {
      const log = this.options.log;
      if (await log.delivered(this.id)) return this.forgetSoon();
      const seen = await log.readerSeenAt(this.id);
      if (seen !== null) this.lastAttachedAt = Math.max(this.lastAttachedAt, seen);
      if (Date.now() - this.lastAttachedAt <= this.options.graceMs) return;
      this.stopWatchdog();
      this.expired = true;
      if (!this.over) this.options.cancel(new Error('nobody resumed the stream within its window'));
      await this.appending;
      await log.delete(this.id);
    } catch (error) {
      this.options.logger.warn({ err: error, stream: this.id }, 'resumable stream: window check failed');
    }
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}
