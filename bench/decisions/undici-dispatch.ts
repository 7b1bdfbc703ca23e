/**
 * ADR 0004's measurement: CPU per streamed response read with undici's `pool.request` (a Readable
 * body, a promise per chunk in `for await`) versus a raw `pool.dispatch` handler (socket callbacks).
 * A local server sends 64 SSE chunks per response, one per event-loop turn; both clients read the same bytes, interleaved.
 * Run: npx tsx bench/decisions/undici-dispatch.ts [responses=2000]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

const CHUNK = `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ' token' } }] })}\n\n`;
const BODY = CHUNK.repeat(64) + 'data: [DONE]\n\n';
const responses = Number(process.argv[2] ?? 2000);

// One chunk per event-loop turn, so the client sees them arrive apart, as from a generating engine.
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let sent = 0;
  const next = (): void => {
    if (sent++ === 64) return void res.end('data: [DONE]\n\n');
    res.write(CHUNK);
    setImmediate(next);
  };
  next();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const pool = new Pool(origin, { connections: 8 });

async function viaRequest(): Promise<number> {
  const { body } = await pool.request({ path: '/', method: 'GET' });
  let bytes = 0;
  for await (const chunk of body) bytes += (chunk as Buffer).length;
  return bytes;
}

function viaDispatch(): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const handler: Dispatcher.DispatchHandlers = {
      onConnect: () => {},
      onHeaders: () => true,
      onData: (chunk) => ((bytes += chunk.length), true),
      onComplete: () => resolve(bytes),
      onError: reject,
    };
    pool.dispatch({ path: '/', method: 'GET' }, handler);
  });
}

async function cpuPerResponse(read: () => Promise<number>, count: number): Promise<number> {
  const start = process.cpuUsage();
  for (let done = 0; done < count; done += 8) {
    const sizes = await Promise.all(Array.from({ length: 8 }, read));
    if (sizes.some((size) => size !== BODY.length)) throw new Error('short read');
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

const rounds = { request: [] as number[], dispatch: [] as number[] };
for (let round = 0; round < 5; round++) {
  rounds.request.push(await cpuPerResponse(viaRequest, responses));
  rounds.dispatch.push(await cpuPerResponse(viaDispatch, responses));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
// The server runs in this process too: its share is the same for both clients.
console.log(`CPU per response (client + local server), median of 5 rounds of ${responses}:`);
console.log(`  pool.request + for await: ${median(rounds.request).toFixed(0)} µs`);
console.log(`  pool.dispatch handler:    ${median(rounds.dispatch).toFixed(0)} µs`);
await pool.close();
server.close();
