/**
 * The embedded floor: a bare node:http server around the direct call. A key check, then node-llama-cpp
 * called exactly as the direct side calls it, each piece of text written as one SSE event on the next
 * turn of the event loop (what waited together leaves together); no validation, no ledger, no metrics.
 * Read by the same client as Oru-el, it shows what HTTP, SSE and the client cost on this machine (two
 * cores shared by llama.cpp, the server and the client). It speaks server-child.ts's IPC protocol.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLlamaRuntime } from '../src/engines/llama-cpp/runtime.js';
import { DirectGenerator } from './direct.js';
import { statsReply, type ChildMessage, type ParentMessage, type ServerChildConfig } from './server-protocol.js';

const API_KEY = 'floor-key';
const send = (message: ChildMessage): void => {
  process.send?.(message);
};

interface FloorRequest {
  messages?: { content?: string }[];
  max_tokens?: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ServerChildConfig;
  const llama = await createLlamaRuntime({ gpu: false, log: () => undefined });
  const generator = await DirectGenerator.load(llama, options);
  // One sequence, one generation at a time: the interleaved rounds send one request at a time.
  let busy = false;
  const server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    if (incoming.headers.authorization !== `Bearer ${API_KEY}` || busy) {
      response.writeHead(busy ? 429 : 401).end();
      return;
    }
    busy = true;
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (text: string) => (body += text));
    incoming.on('end', () => {
      stream(generator, JSON.parse(body) as FloorRequest, response).finally(() => (busy = false));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') {
      send(statsReply(message.id, []));
      return;
    }
    server.closeAllConnections();
    server.close(() => {
      void generator
        .dispose()
        .then(() => llama.dispose())
        .finally(() => process.exit(0));
    });
  });
  process.on('disconnect', () => process.exit(1));
  const port = (server.address() as AddressInfo).port;
  send({ type: 'ready', baseURL: `http://127.0.0.1:${port}/v1/inference`, apiKey: API_KEY });
}

async function stream(generator: DirectGenerator, request: FloorRequest, response: ServerResponse): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const prompt = request.messages?.at(-1)?.content ?? '';
  // Written on the next turn of the event loop, not inside node-llama-cpp's callback: the socket write
  // then overlaps the next token's evaluation (on llama.cpp's thread) instead of delaying it.
  let waiting = '';
  const flush = () => {
    response.write(waiting);
    waiting = '';
  };
  const sample = await generator.generate(prompt, request.max_tokens ?? 16, (text) => {
    if (waiting === '') setImmediate(flush);
    waiting += `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}}}]}\n\n`;
  });
  if (waiting !== '') flush();
  const usage = { completion_tokens: sample.completionTokens };
  const final = { choices: [{ index: 0, delta: {}, finish_reason: sample.finishReason }], usage };
  response.end(`data: ${JSON.stringify(final)}\n\ndata: [DONE]\n\n`);
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
