import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One streamed response of the flood, as the upstream saw it. */
export interface FloodStream {
  /** Bytes handed to the socket so far. */
  bytes: number;
  /** Writing is paused: the socket did not take the last chunk (backpressure from Oru-el). */
  waitingForDrain: boolean;
  /** The response was closed before it ended (Oru-el aborted or destroyed the upstream request). */
  closed: boolean;
}

const CONTENT = 'x'.repeat(4_096);

/**
 * An OpenAI-compatible upstream that never finishes a stream: after the role chunk it writes 4 KiB
 * content chunks (one "token" each, with the usage so far) as fast as the connection takes them,
 * honouring backpressure, so what it has sent shows how much a slow reader makes the gateway (and the
 * kernel) hold.
 */
export class FloodUpstream {
  readonly streams: FloodStream[] = [];
  readonly #sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void this.#handle(request, response));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<FloodUpstream> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FloodUpstream(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Streams whose writer is blocked on a full connection. */
  get blocked(): number {
    return this.streams.filter((stream) => stream.waitingForDrain && !stream.closed).length;
  }

  get open(): number {
    return this.streams.filter((stream) => !stream.closed).length;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for await (const chunk of request) void chunk;
    const stream: FloodStream = { bytes: 0, waitingForDrain: false, closed: false };
    this.streams.push(stream);
    response.once('close', () => (stream.closed = true));
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    // vLLM's continuous usage stats: every chunk carries the usage so far, so nothing needs counting.
    let tokens = 0;
    const chunk = (delta: Record<string, unknown>) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-flood', object: 'chat.completion.chunk', created: 1, model: 'flood', choices: [{ index: 0, delta, finish_reason: null }], usage: { prompt_tokens: 10, completion_tokens: tokens, total_tokens: 10 + tokens } })}\n\n`;
    const write = (text: string) => {
      stream.bytes += Buffer.byteLength(text);
      return response.write(text);
    };
    write(chunk({ role: 'assistant', content: '' }));
    let writes = 0;
    while (!stream.closed) {
      tokens += 1;
      if (write(chunk({ content: CONTENT }))) {
        // Yield now and then so one stream does not starve the event loop.
        writes += 1;
        if (writes % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      stream.waitingForDrain = true;
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off('drain', done);
          response.off('close', done);
          resolve();
        };
        response.on('drain', done);
        response.on('close', done);
      });
      stream.waitingForDrain = false;
    }
  }
}
