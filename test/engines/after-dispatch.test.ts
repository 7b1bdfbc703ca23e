import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { PartQueue } from '../../src/engines/part-queue.js';
import { AfterDispatch } from '../../src/engines/llama-cpp/after-dispatch.js';

/** Tokens reach their reader after llama.cpp got the next decode, and never wait for a later token. */

describe('the hand-over after the decode dispatch', () => {
  it('hands the first token at once, later ones one turn after the next decode dispatch', async () => {
    const after = new AfterDispatch();
    const order: string[] = [];
    const handOver = after.handOver();
    handOver(() => order.push('first'));
    await Promise.resolve();
    expect(order).toEqual(['first']);

    handOver(() => order.push('second'));
    // The generation schedules the next decode later in the same turn.
    after.dispatchSchedule(() => order.push('dispatch'));
    await nextTurn();
    expect(order).toEqual(['first', 'dispatch']);
    await nextTurn();
    expect(order).toEqual(['first', 'dispatch', 'second']);
  });

  it('hands over on the next turn when no decode is coming (the last token, finish, usage)', async () => {
    const after = new AfterDispatch();
    const order: string[] = [];
    const handOver = after.handOver();
    handOver(() => order.push('first'));
    handOver(() => order.push('last'));
    await Promise.resolve();
    expect(order).toEqual(['first']);
    await nextTurn();
    expect(order).toEqual(['first', 'last']);
  });

  it('lets a part queue hand its batches over this way, in order and complete', async () => {
    const after = new AfterDispatch();
    const queue = new PartQueue({ highWaterMark: Infinity, handOver: after.handOver() });
    const read: string[] = [];
    const reader = (async () => {
      for await (const part of queue) if (part.type === 'text-delta') read.push(part.text);
    })();
    for (const text of ['a', 'b', 'c']) {
      await nextTurn();
      queue.push({ type: 'text-delta', choice: 0, text });
      after.dispatchSchedule(() => undefined);
    }
    queue.close();
    await reader;
    expect(read).toEqual(['a', 'b', 'c']);
  });
});
