import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../src/engines/engine.js';
import { EngineError } from '../../src/engines/engine-error.js';
import { PartQueue } from '../../src/engines/part-queue.js';

/** The one part queue every engine hands its parts over in: batches, merging rules, bounds, end. */

const text = (value: string, choice = 0): StreamPart => ({ type: 'text-delta', choice, text: value });

async function drain(queue: PartQueue): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of queue) parts.push(part);
  return parts;
}

describe('the part queue', () => {
  it('hands a part straight to a waiting reader', async () => {
    const queue = new PartQueue();
    const next = queue.nextBatch();
    queue.push(text('a'));
    expect(await next).toEqual([text('a')]);
  });

  it('gives the reader everything waiting as one batch, every part kept as the engine sent it', async () => {
    const queue = new PartQueue();
    for (const value of ['a', 'b', 'c']) queue.push(text(value));
    expect(await queue.nextBatch()).toEqual([text('a'), text('b'), text('c')]);
    queue.close();
    expect(await queue.nextBatch()).toBeNull();
  });

  it('merges deltas that waited together only when the reader asks (same choice, same call), never across other parts', async () => {
    const queue = new PartQueue();
    const parts: StreamPart[] = [
      text('Hel'),
      text('lo'),
      text('!', 1),
      { type: 'tool-call-start', choice: 0, callIndex: 0, callId: 'call_a', toolName: 'f' },
      { type: 'tool-call-delta', choice: 0, callIndex: 0, argumentsText: '{"a":' },
      { type: 'tool-call-delta', choice: 0, callIndex: 0, argumentsText: '1}' },
      { type: 'tool-call-delta', choice: 0, callIndex: 1, argumentsText: '{}' },
      { type: 'finish', choice: 0, finishReason: 'tool_calls' },
    ];
    for (const part of parts) queue.push(part);
    expect(await queue.nextBatch(true)).toEqual([
      text('Hello'),
      text('!', 1),
      parts[3],
      { type: 'tool-call-delta', choice: 0, callIndex: 0, argumentsText: '{"a":1}' },
      parts[6],
      parts[7],
    ]);
  });

  it('hands a waiting reader the whole synchronous burst (one socket read of chunks) as one batch', async () => {
    const queue = new PartQueue();
    const first = queue.nextBatch();
    queue.push(text('a'));
    queue.push(text('b'));
    expect(await first).toEqual([text('a'), text('b')]);
  });

  it('never holds a part back: one pushed after the reader took its batch comes with the next read, at once', async () => {
    const queue = new PartQueue();
    const first = queue.nextBatch(true);
    queue.push(text('a'));
    expect(await first).toEqual([text('a')]);
    const second = queue.nextBatch(true);
    setImmediate(() => queue.push(text('b')));
    expect(await second).toEqual([text('b')]);
  });

  it('asks the producer to pause past the high-water mark, and calls back once the reader took the backlog', async () => {
    const queue = new PartQueue({ highWaterMark: 3 });
    expect([queue.push(text('a')), queue.push(text('b'))]).toEqual([true, true]);
    expect(queue.push({ type: 'finish', choice: 0, finishReason: 'stop' })).toBe(false);
    let resumed = false;
    queue.whenDrained(() => (resumed = true));
    expect(resumed).toBe(false);
    await queue.nextBatch();
    expect(resumed).toBe(true);
  });

  it('tells the producer when the reader stops early, and the observer that the stream is over', async () => {
    let abandoned = false;
    const ends: (EngineError | null)[] = [];
    const queue = new PartQueue({ onAbandoned: () => (abandoned = true) });
    queue.onEnd((failure) => ends.push(failure));
    queue.push(text('a'));
    for await (const _ of queue) break;
    expect(abandoned).toBe(true);
    expect(ends).toEqual([null]);
  });

  it('reports the end once, with the error part the stream carried', async () => {
    const error = new EngineError('upstream_error', 'crashed');
    const queue = PartQueue.from([text('a'), { type: 'error', error }]);
    const ends: (EngineError | null)[] = [];
    queue.onEnd((failure) => ends.push(failure));
    expect(await drain(queue)).toHaveLength(2);
    expect(ends).toEqual([error]);
    queue.cancel();
    expect(ends).toHaveLength(1);
  });

  it('says how long each part waited between push and write, when someone listens', async () => {
    const seen: number[][] = [];
    const listener = (message: unknown) => seen.push((message as { waitedMs: number[] }).waitedMs);
    subscribe('oruel.part-wait', listener);
    try {
      const queue = new PartQueue();
      queue.push(text('a'));
      queue.push(text('b'));
      await queue.nextBatch();
      queue.written();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toHaveLength(2);
      for (const waited of seen[0]!) expect(waited).toBeGreaterThanOrEqual(0);
    } finally {
      unsubscribe('oruel.part-wait', listener);
    }
  });
});
