import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engines/engine-error.js';
import { SequencePool } from '../../src/engines/llama-cpp/sequence-pool.js';

/** The slot pool alone: FIFO admission, bounded queue, aborts that leave no trace. */

const never = () => new AbortController().signal;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

describe('SequencePool', () => {
  it('hands out free slots at once and queues the rest', async () => {
    const pool = new SequencePool(['a', 'b'], 4);
    expect(await pool.acquire(1, never())).toEqual(['a']);
    expect(await pool.acquire(1, never())).toEqual(['b']);
    const third = track(pool.acquire(1, never()));
    await tick();
    expect(third.settled).toBe(false);
    expect(pool.waiting).toBe(1);
    pool.release('a');
    await tick();
    expect(third.value).toEqual(['a']);
    expect(pool.waiting).toBe(0);
  });

  it('serves waiters first come, first served; a request for two is not starved by singles behind it', async () => {
    const pool = new SequencePool(['a', 'b'], 4);
    const held = await pool.acquire(2, never());
    const pair = track(pool.acquire(2, never()));
    const single = track(pool.acquire(1, never()));
    pool.release(held[0]!);
    await tick();
    // One slot free: the single behind the pair must not jump the queue.
    expect(pair.settled).toBe(false);
    expect(single.settled).toBe(false);
    pool.release(held[1]!);
    await tick();
    expect(pair.value).toHaveLength(2);
    expect(single.settled).toBe(false);
  });

  it('canAdmit says false exactly when the queue is full', async () => {
    const pool = new SequencePool(['a'], 1);
    expect(pool.canAdmit(1)).toBe(true);
    await pool.acquire(1, never());
    expect(pool.canAdmit(1)).toBe(true);
    void pool.acquire(1, never());
    expect(pool.canAdmit(1)).toBe(false);
  });

  it('a full queue rejects with a retryable overloaded EngineError', async () => {
    const pool = new SequencePool(['a'], 0);
    await pool.acquire(1, never());
    const error = await pool.acquire(1, never()).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'overloaded', retryable: true });
  });

  it('an aborted waiter leaves the queue and its abort reason rejects it', async () => {
    const pool = new SequencePool(['a'], 4);
    await pool.acquire(1, never());
    const controller = new AbortController();
    const waiter = track(pool.acquire(1, controller.signal));
    const reason = new Error('gone');
    controller.abort(reason);
    await tick();
    expect(waiter.error).toBe(reason);
    expect(pool.waiting).toBe(0);
    pool.release('a');
    expect(await pool.acquire(1, never())).toEqual(['a']);
  });

  it('a departing head of the queue lets smaller requests behind it through', async () => {
    const pool = new SequencePool(['a', 'b'], 4);
    await pool.acquire(1, never());
    const controller = new AbortController();
    const pair = track(pool.acquire(2, controller.signal));
    const single = track(pool.acquire(1, never()));
    await tick();
    expect(single.settled).toBe(false);
    controller.abort(new Error('gone'));
    await tick();
    expect(pair.error).toBeInstanceOf(Error);
    expect(single.value).toEqual(['b']);
  });

  it('an already-aborted signal is refused without taking a slot', async () => {
    const pool = new SequencePool(['a'], 4);
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(pool.acquire(1, controller.signal)).rejects.toThrow('gone');
    expect(await pool.acquire(1, never())).toEqual(['a']);
  });

  it('rejectAll empties the queue with the given error', async () => {
    const pool = new SequencePool(['a'], 4);
    await pool.acquire(1, never());
    const first = track(pool.acquire(1, never()));
    const second = track(pool.acquire(1, never()));
    const error = new EngineError('unavailable', 'shutting down');
    pool.rejectAll(error);
    await tick();
    expect(first.error).toBe(error);
    expect(second.error).toBe(error);
    expect(pool.waiting).toBe(0);
  });
});

describe('SequencePool slot choice', () => {
  it('gives the free slot that scores highest (the longest prefix already held)', async () => {
    const pool = new SequencePool(['a', 'b', 'c'], 4);
    const held = { a: 0, b: 12, c: 40 } as Record<string, number>;
    expect(await pool.acquire(1, never(), (slot) => held[slot]!)).toEqual(['c']);
    expect(await pool.acquire(1, never(), (slot) => held[slot]!)).toEqual(['b']);
  });

  it('among equal scores gives the least recently used slot', async () => {
    const pool = new SequencePool(['a', 'b', 'c'], 4);
    const [first] = await pool.acquire(1, never());
    pool.release(first!);
    // 'a' was just used: 'b' is now the least recently used.
    expect(await pool.acquire(1, never(), () => 0)).toEqual(['b']);
    expect(await pool.acquire(1, never(), () => 0)).toEqual(['c']);
  });

  it('scores a waiting request when a slot frees, not when it queued', async () => {
    const pool = new SequencePool(['a', 'b'], 4);
    const both = await pool.acquire(2, never());
    let held: Record<string, number> = { a: 0, b: 0 };
    const waiter = track(pool.acquire(1, never(), (slot) => held[slot]!));
    held = { a: 0, b: 30 };
    pool.release(both[0]!);
    pool.release(both[1]!);
    await tick();
    expect(waiter.value).toEqual(['a']);
    // 'a' went to the waiter the moment it was released, before 'b' was free: the queue never waits for a better slot.
    expect(await pool.acquire(1, never(), (slot) => held[slot]!)).toEqual(['b']);
  });
});
