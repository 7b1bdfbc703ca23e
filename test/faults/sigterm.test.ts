import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FloodUpstream } from './flood-upstream.js';
import { stalledStream, until } from './raw-client.js';
import { ServeProcess } from './serve-process.js';

/**
 * SIGTERM (and a second signal) to a real `oruel serve` while one client has stopped reading its
 * stream and another keeps reading an endless one: the exit is bounded by the drain deadline, new
 * requests are refused with 503, the reading client gets the contract's error event, the upstream
 * requests are gone, and every ledger row is in the database.
 */

const DRAIN_MS = 1_500;
/** Kubernetes' grace period: a process still alive then would be SIGKILLed and lose its ledger rows. */
const GRACE_PERIOD_MS = 30_000;
const MESSAGES = [{ role: 'user', content: 'Flood me' }];

let dir: string;
let flood: FloodUpstream;
const servers: ServeProcess[] = [];

function config(drainTimeoutMs: number): Record<string, unknown> {
  return {
    server: { auth: false, drainTimeoutMs, keepAliveMs: 200 },
    models: [{ name: 'flood', engine: 'openai', deployments: [{ url: flood.url, model: 'flood' }] }],
  };
}

/** A client that reads an endless stream as fast as it comes, keeping only its tail. */
function readingStream(origin: string) {
  const state = { requestId: '', bytes: 0, tail: '', ended: false };
  const finished = (async () => {
    const response = await fetch(`${origin}/v1/inference/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flood', messages: MESSAGES, stream: true }),
    });
    state.requestId = response.headers.get('x-request-id') ?? '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      state.bytes += chunk.byteLength;
      state.tail = (state.tail + decoder.decode(chunk, { stream: true })).slice(-20_000);
    }
    state.ended = true;
  })();
  return { state, finished };
}

function lastEvent(tail: string): string {
  const events = tail.split('\n\n').filter((event) => event.startsWith('data: '));
  return events.at(-1)!.slice('data: '.length);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oruel-sigterm-'));
  flood = await FloodUpstream.start();
});
afterEach(() => {
  for (const server of servers.splice(0)) server.kill();
});
afterAll(async () => {
  await flood?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM with a stalled reader', () => {
  it('refuses new requests with 503, ends the running streams with an error event at the deadline, stores every row and exits 0', async () => {
    const server = await ServeProcess.start(dir, 'sigterm', config(DRAIN_MS));
    servers.push(server);
    const stalled = await stalledStream(server.origin, { model: 'flood', messages: MESSAGES });
    // Oru-el stopped taking the stalled stream's bytes, so the upstream is held by backpressure.
    await until(() => flood.blocked >= 1, 'the upstream to be held by the stalled reader');
    const reading = readingStream(server.origin);
    await until(() => reading.state.bytes > 100_000, 'the reading client to receive its stream');

    const signalledAt = performance.now();
    server.child.kill('SIGTERM');
    await until(() => server.output.includes('shutting down'), 'the shutdown to begin');
    const refused = await fetch(`${server.origin}/v1/inference/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flood', messages: MESSAGES }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({
      error: {
        message: expect.stringMatching(/shutting down/),
        type: 'server_error',
        param: null,
        code: 'server_shutting_down',
      },
    });
    expect((await fetch(`${server.origin}/readyz`)).status).toBe(503);

    const exit = await server.exitWithin(GRACE_PERIOD_MS);
    const exitMs = performance.now() - signalledAt;
    console.log(
      `[faults] SIGTERM with a stalled reader: exit ${exit.code} after ${Math.round(exitMs)} ms (drain deadline ${DRAIN_MS} ms)`,
    );
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeGreaterThanOrEqual(DRAIN_MS);

    await reading.finished;
    expect(reading.state.tail).not.toContain('[DONE]');
    expect(JSON.parse(lastEvent(reading.state.tail))).toMatchObject({
      choices: [{ finish_reason: 'error' }],
      error: { code: 'server_shutting_down', type: 'server_error' },
    });
    // The stalled client's connection was closed by the server (a paused socket sees it once it reads again).
    stalled.socket.resume();
    await stalled.closed;
    // The upstream requests were destroyed with the process, not left to finish.
    expect(flood.open).toBe(0);

    for (const requestId of [stalled.requestId, reading.state.requestId]) {
      const rows = server.ledgerRows(requestId);
      expect(rows, requestId).toEqual([
        { outcome: 'error', error_code: 'server_shutting_down', status: 200, completion_tokens: expect.any(Number) },
      ]);
      expect(rows[0]!.completion_tokens).toBeGreaterThan(0);
    }
  }, 120_000);

  it('a second signal ends the drain at once and still stores the ledger', async () => {
    // A drain long enough that only the second signal can explain a prompt exit.
    const longDrainMs = 60_000;
    const server = await ServeProcess.start(dir, 'second-signal', config(longDrainMs));
    servers.push(server);
    const stalled = await stalledStream(server.origin, { model: 'flood', messages: MESSAGES });
    await until(() => flood.blocked >= 1, 'the upstream to be held by the stalled reader');
    const reading = readingStream(server.origin);
    await until(() => reading.state.bytes > 100_000, 'the reading client to receive its stream');

    server.child.kill('SIGTERM');
    await until(() => server.output.includes('shutting down'), 'the shutdown to begin');
    const signalledAt = performance.now();
    server.child.kill('SIGINT');
    const exit = await server.exitWithin(GRACE_PERIOD_MS);
    const exitMs = performance.now() - signalledAt;
    console.log(
      `[faults] second signal: exit ${exit.code} after ${Math.round(exitMs)} ms (drain deadline ${longDrainMs} ms)`,
    );
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(longDrainMs);
    await reading.finished;
    expect(JSON.parse(lastEvent(reading.state.tail))).toMatchObject({ error: { code: 'server_shutting_down' } });
    for (const requestId of [stalled.requestId, reading.state.requestId]) {
      expect(server.ledgerRows(requestId), requestId).toHaveLength(1);
    }
  }, 120_000);
});
