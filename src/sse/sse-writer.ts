import type { ServerResponse } from 'node:http';
import { eventJson, type EventSink } from './event-sink.js';

/** The contract's stream headers: no caching, no transformation, no proxy buffering. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

const KEEP_ALIVE = ': keep-alive\n\n';
const DONE = 'data: [DONE]\n\n';

/** One event with its SSE `id:` line (resumable streams: the id a reconnect sends back as Last-Event-ID). */
export function sseEvent(id: number, data: string): string {
  return `id: ${id}\ndata: ${data}\n\n`;
}

/**
 * The one place that writes server-sent events. Each write goes to the socket at once (no Nagle, no
 * compression); a slow reader is met with backpressure (we wait for `drain`), never an unbounded buffer;
 * `: keep-alive` comments fill every silence longer than the interval. The status line and headers
 * leave with the first write (the role chunk and the first token), in one socket write.
 */
export class SseWriter implements EventSink {
  private keepAlive: NodeJS.Timeout | null = null;
  private pendingOpen: NodeJS.Timeout | null = null;
  private headers: Record<string, string | number | string[]> = {};
  /** The last `send` had to wait for the client: it reads slower than the engine produces. */
  private backedUp = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly keepAliveMs: number,
    /** When it fires, a pending wait for `drain` ends: a stalled reader cannot hold the request (or a shutdown). */
    private readonly stop?: AbortSignal,
  ) {
    response.once('close', () => this.stopTimers());
  }

  get isOpen(): boolean {
    return this.response.headersSent;
  }

  /** False once the client went away or the stream ended. */
  get writable(): boolean {
    return !this.response.writableEnded && !this.response.destroyed;
  }

  /**
   * Commits status 200 and headers if nothing else did within one keep-alive interval, then keeps the
   * connection alive: a request waiting for an engine must not look dead to proxies and clients.
   */
  openIfStillWaiting(headers: Record<string, string | number | string[]>): void {
    this.headers = headers;
    this.pendingOpen = setTimeout(() => {
      this.pendingOpen = null;
      this.open(this.headers);
      this.write(KEEP_ALIVE);
    }, this.keepAliveMs);
  }

  /** Commits status 200 and the stream headers; they go out with the next write. */
  open(headers: Record<string, string | number | string[]> = this.headers): void {
    if (this.pendingOpen) clearTimeout(this.pendingOpen);
    this.pendingOpen = null;
    if (this.response.headersSent || !this.writable) return;
    this.response.socket?.setNoDelay(true);
    this.response.writeHead(200, { ...headers, ...SSE_HEADERS });
    this.keepAlive = setInterval(() => this.write(KEEP_ALIVE), this.keepAliveMs);
  }

  /** True when the client took the last write at once; false when it had to be waited for. */
  get keepingUp(): boolean {
    return !this.backedUp;
  }

  /** Writes events as one socket write (with the headers, the first time); resolves when the socket can take more. */
  send(events: readonly unknown[]): Promise<void> {
    return this.sendText(eventsText(events));
  }

  /** Writes events already framed (resumable streams frame theirs with `id:` lines, see `sseEvent`). */
  async sendText(text: string): Promise<void> {
    if (text === '') return;
    this.backedUp = !this.write(text);
    if (this.backedUp) await this.drained();
  }

  /** Ends a complete stream: the last events, `[DONE]` and the end of the response, in one write. */
  done(events: readonly unknown[] = []): void {
    this.finish(eventsText(events) + DONE);
  }

  /** Ends the stream with this last text (already framed) in the same write. */
  finish(text: string): void {
    this.stopTimers();
    if (this.writable) this.response.end(text);
  }

  /** Ends the stream without `[DONE]` (after an error event). */
  end(): void {
    this.stopTimers();
    if (this.writable) this.response.end();
  }

  private write(text: string): boolean {
    if (!this.writable) return true;
    this.keepAlive?.refresh();
    return this.response.write(text);
  }

  private drained(): Promise<void> {
    if (this.stop?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        this.response.off('drain', finish);
        this.response.off('close', finish);
        this.stop?.removeEventListener('abort', finish);
        resolve();
      };
      this.response.on('drain', finish);
      this.response.on('close', finish);
      this.stop?.addEventListener('abort', finish, { once: true });
    });
  }

  private stopTimers(): void {
    if (this.pendingOpen) clearTimeout(this.pendingOpen);
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.pendingOpen = null;
    this.keepAlive = null;
  }
}

function eventsText(events: readonly unknown[]): string {
  let text = '';
  for (const event of events) text += `data: ${eventJson(event)}\n\n`;
  return text;
}
