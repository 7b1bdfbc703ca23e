import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../src/engines/engine.js';
import { PartQueue } from '../../src/engines/openai-upstream/part-queue.js';

const text = (value: string, choice = 0): StreamPart => ({ type: 'text-delta', choice, text: value });

async function drain(queue: PartQueue): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of queue) parts.push(part);
  return parts;
}

describe('the upstream part queue', () => {
  it('hands a part straight to a waiting reader', async () => {
    const queue = new PartQueue(8, () => undefined);
    const next = queue.next();
    queue.push(text('a'));
    expect(await next).toEqual({ value: text('a'), done: false });
  });

  it('merges deltas that waited together (same choice, same call), never across other parts', async () => {
    const queue = new PartQueue(100, () => undefined);
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
    queue.close();
    expect(await drain(queue)).toEqual([
      text('Hello'),
      text('!', 1),
      parts[3],
      { type: 'tool-call-delta', choice: 0, callIndex: 0, argumentsText: '{"a":1}' },
      parts[6],
      parts[7],
    ]);
  });

  it('asks the producer to pause past the high-water mark, and calls back once the reader caught up', async () => {
    const queue = new PartQueue(3, () => undefined);
    expect([queue.push(text('a')), queue.push(text('b'))]).toEqual([true, true]);
    expect(queue.push({ type: 'finish', choice: 0, finishReason: 'stop' })).toBe(false);
    let resumed = false;
    queue.whenDrained(() => (resumed = true));
    await queue.next();
    expect(resumed).toBe(false);
    await queue.next();
    expect(resumed).toBe(true);
  });

  it('tells the producer when the reader stops early', async () => {
    let abandoned = false;
    const queue = new PartQueue(8, () => (abandoned = true));
    queue.push(text('a'));
    for await (const _ of queue) break;
    expect(abandoned).toBe(true);
  });
});
