import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorBody, midStreamErrorEvent, STREAM_CONTENT_TYPE, type Dialect } from './dialects.js';
import type { Fault } from './faults.js';
import { completionBody, streamEvents, type Scenario } from './fixtures.js';
import { serveEmbeddings, serveLegacyCompletion } from './legacy-endpoints.js';
import { syntheticResponse, type SyntheticResponse } from './synthetic.js';

/** Framing variants any dialect can be sent with (robustness, not one engine's habit). */
interface Framing {
  /** `data:{...}` instead of `data: {...}`. */
  compactData?: boolean;
  /** A comment line before every event. */
  comments?: boolean;
  /** `\r\n` line ends. */
  crlf?: boolean;
  /** The stream ends without `data: [DONE]` (after a finish reason, which makes it complete anyway). */
  omitDone?: boolean;
}

export interface FakeUpstreamOptions {
  dialect?: Dialect;
  /** Pause between two events of a stream. */
  tokenDelayMs?: number;
  framing?: Framing;
  /** Serve a synthetic stream of this many tokens instead of the fixtures (benchmarks). */
  syntheticTokens?: number;
  /** Synthetic streams: delay of the first token (default: `tokenDelayMs`, as if prefill took one token's time). */
  firstTokenDelayMs?: number;
  /** Keep a record of every request (tests); off for benchmarks. */
  record?: boolean;
}

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  receivedAt: number;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
  /** performance.now() when the abort was seen. */
  abortedAt: number | null;
  /** performance.now() when the response ended (complete or not). */
  closedAt: number | null;
}

/**
 * An OpenAI-compatible upstream on 127.0.0.1 that replays recorded streams in the dialect of vLLM,
 * llama-server, Ollama or OpenAI, and fails on request (see Fault). It records every request it got:
 * body, headers, and whether the client aborted it.
 */
export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private persistentFault: Fault | null = null;
  private options: Required<Omit<FakeUpstreamOptions, 'syntheticTokens' | 'firstTokenDelayMs'>> & {
    firstTokenDelayMs?: number;
  };
  private synthetic: SyntheticResponse | null;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    options: FakeUpstreamOptions,
  ) {
    this.options = { dialect: 'openai', tokenDelayMs: 0, framing: {}, record: true, ...options };
    this.synthetic = options.syntheticTokens ? syntheticResponse(options.syntheticTokens) : null;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
    const server = createServer({ keepAliveTimeout: 30_000 });
    const fake = new FakeUpstream(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** Base URL as operators configure it: `http://127.0.0.1:PORT/v1`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  configure(options: Partial<Omit<FakeUpstreamOptions, 'syntheticTokens'>>): void {
    this.options = { ...this.options, ...options };
  }

  /** Each queued fault is used by one request, in order. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Every request fails this way until cleared with null. */
  failAlways(fault: Fault | null): void {
    this.persistentFault = fault;
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
    this.persistentFault = null;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    const body = parseBody(text);
    const record: RecordedRequest = {
      path: request.url ?? '',
      headers: request.headers,
      body,
      receivedAt: performance.now(),
      aborted: false,
      abortedAt: null,
      closedAt: null,
    };
    if (this.options.record) this.requests.push(record);
    response.once('close', () => {
      record.closedAt = performance.now();
      if (!response.writableFinished) {
        record.aborted = true;
        record.abortedAt = record.closedAt;
      }
    });
    const fault = this.faults.shift() ?? this.persistentFault;
    if (fault?.kind === 'status')
      return this.sendError(response, fault.status, fault.message ?? `fake failure ${fault.status}`, fault.headers);
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (path.endsWith('/embeddings')) return serveEmbeddings(response, body);
    if (path.endsWith('/completions') && !path.endsWith('/chat/completions'))
      return serveLegacyCompletion(response, body, this.options.tokenDelayMs);
    const stream = body.stream === true;
    if (!stream && body.stream_options !== undefined && this.options.dialect === 'vllm') {
      // vLLM's request validation: stream_options is refused on non-streaming requests.
      return this.sendError(response, 400, 'Stream options can only be defined when `stream=True`.');
    }
    if (this.synthetic)
      return stream
        ? this.sendSyntheticStream(response, this.synthetic, includesUsage(body))
        : endWith(response, 200, 'application/json', this.synthetic.completion);
    const scenario: Scenario = Array.isArray(body.tools) && body.tools.length > 0 ? 'tools' : 'text';
    if (!stream || fault?.kind === 'ignore-stream')
      return endWith(response, 200, 'application/json', completionBody(this.options.dialect, scenario));
    await this.sendStream(response, streamEvents(this.options.dialect, scenario, includesUsage(body)), fault);
  }

  private sendError(
    response: ServerResponse,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(errorBody(this.options.dialect, status, message)));
  }

  private async sendStream(response: ServerResponse, events: string[], fault: Fault | null): Promise<void> {
    const { framing, tokenDelayMs, dialect } = this.options;
    response.writeHead(200, { 'content-type': STREAM_CONTENT_TYPE[dialect], 'cache-control': 'no-cache' });
    response.flushHeaders();
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'slow-first-token') await sleep(fault.delayMs);
    const cut = fault && 'afterEvents' in fault ? fault.afterEvents : Infinity;
    for (const [index, event] of events.entries()) {
      if (response.destroyed) return;
      if (index === cut) return this.breakOff(response, fault);
      if (framing.omitDone && event.startsWith('data: [DONE]')) continue;
      response.write(frame(event, framing));
      if (tokenDelayMs > 0 && index < events.length - 1) await sleep(tokenDelayMs);
    }
    if (fault?.kind !== 'hold-after-done') response.end();
  }

  private breakOff(response: ServerResponse, fault: Fault | null): void {
    switch (fault?.kind) {
      case 'crash':
        response.destroy();
        return;
      case 'error-event':
        response.end(midStreamErrorEvent(this.options.dialect, fault.message));
        return;
      default:
        response.end();
    }
  }

  private sendSyntheticStream(response: ServerResponse, synthetic: SyntheticResponse, withUsage: boolean): void {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const delay = this.options.tokenDelayMs;
    const end = withUsage ? synthetic.endWithUsage : synthetic.endWithoutUsage;
    if (delay === 0) {
      response.end(withUsage ? synthetic.wholeWithUsage : synthetic.wholeWithoutUsage);
      return;
    }
    let next = 0;
    let timer: NodeJS.Timeout | null = null;
    const writeToken = (): void => {
      if (response.destroyed) return;
      response.write(synthetic.tokens[next]!);
      next += 1;
      if (next < synthetic.tokens.length) timer = setTimeout(writeToken, delay);
      else response.end(end);
    };
    response.once('close', () => {
      if (timer) clearTimeout(timer);
    });
    // The role chunk at once, like the engines; the first token after the "prefill".
    response.write(synthetic.role);
    const firstDelay = this.options.firstTokenDelayMs ?? delay;
    if (firstDelay === 0) writeToken();
    else timer = setTimeout(writeToken, firstDelay);
  }
}

function includesUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  return options?.include_usage === true;
}

function frame(event: string, framing: Framing): string {
  let text = event;
  if (framing.compactData) text = text.replace(/^data: /gm, 'data:');
  if (framing.comments) text = `: keep-alive\n\n${text}`;
  if (framing.crlf) text = text.replace(/\n/g, '\r\n');
  return text;
}

function endWith(response: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  response.writeHead(status, { 'content-type': contentType });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
