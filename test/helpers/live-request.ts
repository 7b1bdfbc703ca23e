import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

/**
 * One request on its own socket (`agent: false`), read as it arrives: every SSE event is timestamped
 * and decoded from its own bytes, so tests can measure latency, disconnect at a chosen moment and
 * check that no event splits a UTF-8 character.
 */

export interface TimedEvent {
  kind: 'data' | 'comment';
  /** The payload after `data: ` (or the whole comment line). */
  text: string;
  /** Parsed JSON for data events other than `[DONE]`. */
  json: ChunkJson | null;
  /** performance.now() when the bytes completing this event arrived. */
  at: number;
}

/** The fields of a chat.completion.chunk the tests read. */
export interface ChunkJson {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices?: { index: number; delta: { role?: string; content?: string | null }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: { message: string; type: string; code: string | null };
}

export interface LiveRequestOptions {
  /** `Bearer <apiKey>`; null sends no Authorization header. */
  apiKey: string | null;
  body: unknown;
  method?: string;
  headers?: Record<string, string>;
}

export class LiveRequest {
  /** performance.now() when the request was written. */
  readonly sentAt: number;
  readonly events: TimedEvent[] = [];
  /** Events whose bytes are not valid UTF-8 on their own. */
  readonly utf8Errors: { index: number; bytes: string }[] = [];
  /** Resolves with the response once its status line and headers arrived. */
  readonly response: Promise<IncomingMessage>;
  /** Resolves when the response ended, the socket closed or the request failed; never rejects. */
  readonly finished: Promise<{ complete: boolean }>;
  private readonly request: ClientRequest;
  private pending: Buffer = Buffer.alloc(0);
  private readonly chunks: Buffer[] = [];
  private readonly listeners = new Set<() => void>();
  private ended = false;

  constructor(url: string, options: LiveRequestOptions) {
    const payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (options.apiKey !== null) headers.authorization = `Bearer ${options.apiKey}`;
    this.request = httpRequest(url, { method: options.method ?? 'POST', headers, agent: false });
    let settle!: (value: { complete: boolean }) => void;
    this.finished = new Promise((resolve) => (settle = resolve));
    const finish = (complete: boolean) => {
      if (this.ended) return;
      this.ended = true;
      settle({ complete });
      this.notify();
    };
    this.response = new Promise((resolve, reject) => {
      this.request.once('response', (response) => {
        resolve(response);
        response.on('data', (chunk: Buffer) => this.onBytes(chunk));
        response.once('end', () => finish(true));
        response.once('close', () => finish(response.complete));
        response.once('error', () => finish(false));
      });
      this.request.once('error', (error) => {
        reject(error);
        finish(false);
      });
    });
    // A destroyed request rejects `response`; tests that destroy on purpose do not await it.
    this.response.catch(() => undefined);
    this.request.end(payload);
    this.sentAt = performance.now();
  }

  /** Closes the socket now, like a browser tab closing; returns performance.now() at that moment. */
  destroy(): number {
    this.request.destroy();
    return performance.now();
  }

  get status(): Promise<number> {
    return this.response.then((response) => response.statusCode ?? 0);
  }

  get headers(): Promise<IncomingHttpHeaders> {
    return this.response.then((response) => response.headers);
  }

  /** The body received so far, as text. */
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** The JSON chunks received so far. */
  get chunksJson(): ChunkJson[] {
    return this.events.flatMap((event) => (event.json ? [event.json] : []));
  }

  /** The first event (received or to come) matching `predicate`; rejects on timeout or when the response ends without one. */
  waitFor(predicate: (event: TimedEvent) => boolean, timeoutMs = 20_000): Promise<TimedEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(predicate);
        if (found) return done(() => resolve(found));
        if (this.ended)
          return done(() =>
            reject(new Error(`response ended without the awaited event; body: ${this.text.slice(0, 500)}`)),
          );
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new Error(
                `timed out after ${timeoutMs} ms waiting for an event; body so far: ${this.text.slice(0, 500)}`,
              ),
            ),
          ),
        timeoutMs,
      );
      const done = (action: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        action();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The first event carrying non-empty generated content. */
  firstContent(timeoutMs?: number): Promise<TimedEvent> {
    return this.waitFor((event) => contentOf(event) !== '', timeoutMs);
  }

  private onBytes(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.pending = Buffer.concat([this.pending, chunk]);
    const at = performance.now();
    for (let end = this.pending.indexOf('\n\n'); end >= 0; end = this.pending.indexOf('\n\n')) {
      const block = this.pending.subarray(0, end);
      this.pending = this.pending.subarray(end + 2);
      this.onBlock(block, at);
    }
    this.notify();
  }

  private onBlock(block: Buffer, at: number): void {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(block);
    } catch {
      this.utf8Errors.push({ index: this.events.length, bytes: block.toString('hex') });
      text = block.toString('utf8');
    }
    for (const line of text.split('\n')) {
      if (line.startsWith('data: ')) {
        const payload = line.slice(6);
        this.events.push({
          kind: 'data',
          text: payload,
          json: payload === '[DONE]' ? null : (JSON.parse(payload) as ChunkJson),
          at,
        });
      } else if (line.startsWith(':')) {
        this.events.push({ kind: 'comment', text: line, json: null, at });
      }
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Starts a request (POST to `baseURL + path` by default). */
export function liveRequest(url: string, options: LiveRequestOptions): LiveRequest {
  return new LiveRequest(url, options);
}

/** The generated text of choice `index` in one event ('' when it carries none). */
export function contentOf(event: TimedEvent, index = 0): string {
  return event.json?.choices?.find((choice) => choice.index === index)?.delta.content ?? '';
}

/** All generated text of choice `index`, in order. */
export function streamText(stream: LiveRequest, index = 0): string {
  return stream.events.map((event) => contentOf(event, index)).join('');
}

/** The chunk that carries usage, if any. */
export function usageOf(stream: LiveRequest): ChunkJson['usage'] | undefined {
  return stream.chunksJson.find((chunk) => chunk.usage)?.usage;
}

/** Whether the stream ended with `data: [DONE]`. */
export function endedWithDone(stream: LiveRequest): boolean {
  return stream.events.filter((event) => event.kind === 'data').at(-1)?.text === '[DONE]';
}
