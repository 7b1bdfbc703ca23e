import type { ServerResponse } from 'node:http';

/** The contract's stream headers: no caching, no transformation, no proxy buffering. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

const KEEP_ALIVE = ': keep-alive\n\n';

/** One event with its SSE `id:` line (resumable streams: the id a reconnect sends back as Last-Event-ID). */
export function sseEvent(id: number, data: string): string {
  return `id: ${id}\ndata: ${data}\n\n`;
}
const DONE = 'data: [DONE]\n\n';

/**
 * The one place that writes server-sent events. Each write goes to the socket at once (no Nagle, no
 * compression); a slow reader is met with backpressure (we wait for `drain`), never an unbounded buffer;
 * `: keep-alive` comments fill every silence longer than the interval.
 */
export class SseWriter {
  private keepAlive: NodeJS.Timeout | null = null;
  private pendingOpen: NodeJS.Timeout | null = null;
  private headers: Record<string, string | number | string[]> = {};

  constructor(
    private readonly response: ServerResponse,
    private readonly keepAliveMs: number,
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

  /** Sends status 200 and the stream headers now. */
  open(headers: Record<string, string | number | string[]> = this.headers): void {
    if (this.pendingOpen) clearTimeout(this.pendingOpen);
    this.pendingOpen = null;
    if (this.isOpen || !this.writable) return;
    this.response.socket?.setNoDelay(true);
    this.response.writeHead(200, { ...headers, ...SSE_HEADERS });
    this.response.flushHeaders();
    this.keepAlive = setInterval(() => this.write(KEEP_ALIVE), this.keepAliveMs);
  }

  /** Writes events as one socket write; resolves when the socket can take more. */
  async send(events: readonly unknown[]): Promise<void> {
    if (events.length === 0) return;
    let text = '';
    for (const event of events) text += `data: ${JSON.stringify(event)}\n\n`;
    if (!this.write(text)) await this.drained();
  }

  /** Writes events already framed (resumable streams frame theirs with `id:` lines, see `sseEvent`). */
  async sendText(text: string): Promise<void> {
    if (text !== '' && !this.write(text)) await this.drained();
  }

  /** Ends a complete stream: `[DONE]`, then close. */
  done(): void {
    this.write(DONE);
    this.end();
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
    return new Promise((resolve) => {
      const finish = () => {
        this.response.off('drain', finish);
        this.response.off('close', finish);
        resolve();
      };
      this.response.on('drain', finish);
      this.response.on('close', finish);
    });
  }

  private stopTimers(): void {
    if (this.pendingOpen) clearTimeout(this.pendingOpen);
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.pendingOpen = null;
    this.keepAlive = null;
  }
}
