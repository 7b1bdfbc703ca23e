import { connect, type Socket } from 'node:net';

/** A request written on a raw socket, so the test decides exactly when (and whether) it reads. */
export interface RawExchange {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the response head once it arrived. */
  head: Promise<string>;
  /** Resolves when the server closed the connection (or it broke). */
  closed: Promise<void>;
}

/** Writes a whole request head (and body) at once. */
export function rawRequest(origin: string, lines: string[], body = ''): RawExchange {
  const exchange = connectRaw(origin);
  exchange.socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  return exchange;
}

/** A connection with nothing sent yet. */
export function connectRaw(origin: string): RawExchange {
  const { hostname, port } = new URL(origin);
  const socket = connect({ host: hostname, port: Number(port) });
  let text = '';
  let resolveHead!: (head: string) => void;
  const head = new Promise<string>((resolve) => (resolveHead = resolve));
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end >= 0) resolveHead(text.slice(0, end));
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return { socket, received: () => text, head, closed };
}

/** A streamed chat request that reads the response head and the first event, then stops reading for good. */
export async function stalledStream(
  origin: string,
  body: Record<string, unknown>,
  apiKey: string | null = null,
): Promise<RawExchange & { requestId: string }> {
  const json = JSON.stringify({ ...body, stream: true });
  const exchange = rawRequest(
    origin,
    [
      'POST /v1/inference/chat/completions HTTP/1.1',
      `Host: ${new URL(origin).host}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(json)}`,
      ...(apiKey ? [`Authorization: Bearer ${apiKey}`] : []),
    ],
    json,
  );
  const head = await exchange.head;
  while (!exchange.received().includes('data: ')) await new Promise((resolve) => setTimeout(resolve, 5));
  exchange.socket.pause();
  const requestId = /x-request-id: (\S+)/i.exec(head)?.[1];
  if (!requestId) throw new Error(`no x-request-id in ${head}`);
  return { ...exchange, requestId };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` holds; fails with `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
