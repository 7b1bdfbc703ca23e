import { describe, expect, it } from 'vitest';
import {
  adjust,
  levelAt,
  msUntilLevel,
  take,
  viewOf,
  WINDOW_MS,
  type BucketState,
} from '../../src/limits/bucket-math.js';

/** A fake clock: tests move time by hand. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('token bucket math', () => {
  it('starts full, bursts to capacity, then refuses with the wait until one unit is back', () => {
    const time = clock();
    let state: BucketState | null = null;
    for (let request = 1; request <= 10; request += 1) {
      const result = take(state, 10, 1, time.now());
      expect(result.admitted).toBe(true);
      expect(result.view.remaining).toBe(10 - request);
      state = result.state;
    }
    const refused = take(state, 10, 1, time.now());
    expect(refused).toMatchObject({
      admitted: false,
      retryAfterMs: 6_000,
      view: { limit: 10, remaining: 0, resetMs: 60_000 },
    });
  });

  it('refills continuously: one unit per window/capacity', () => {
    const time = clock();
    const empty: BucketState = { level: 0, updatedAtMs: time.now() };
    time.advance(5_999);
    expect(take(empty, 10, 1, time.now()).admitted).toBe(false);
    expect(take(empty, 10, 1, time.now()).retryAfterMs).toBe(1);
    time.advance(1);
    expect(take(empty, 10, 1, time.now())).toMatchObject({ admitted: true, view: { remaining: 0 } });
    time.advance(WINDOW_MS);
    expect(levelAt(empty, 10, time.now())).toBe(10);
  });

  it('never refills beyond capacity, and a clock behind the stored time refills nothing', () => {
    const state: BucketState = { level: 3, updatedAtMs: 10_000 };
    expect(levelAt(state, 10, 10_000 + 10 * WINDOW_MS)).toBe(10);
    expect(levelAt(state, 10, 9_000)).toBe(3);
    expect(levelAt(null, 7, 0)).toBe(7);
  });

  it('takes tokens all or nothing and reports the wait for the whole amount', () => {
    const time = clock();
    const first = take(null, 1_000, 700, time.now());
    expect(first).toMatchObject({ admitted: true, view: { remaining: 300, resetMs: 42_000 } });
    const second = take(first.state, 1_000, 500, time.now());
    expect(second.admitted).toBe(false);
    expect(second.retryAfterMs).toBe(12_000);
    expect(levelAt(second.state, 1_000, time.now())).toBe(300);
  });

  it('settles: gives back an unused reservation, charges usage beyond it as debt', () => {
    const time = clock();
    const reserved = take(null, 1_000, 600, time.now()).state;
    expect(adjust(reserved, 1_000, 550, time.now()).level).toBe(950);
    expect(adjust(reserved, 1_000, 5_000, time.now()).level).toBe(1_000);
    const indebted = adjust(reserved, 1_000, -900, time.now());
    expect(indebted.level).toBe(-500);
    expect(viewOf(indebted.level, 1_000)).toEqual({ limit: 1_000, remaining: 0, resetMs: 90_000 });
    expect(take(indebted, 1_000, 1, time.now()).retryAfterMs).toBe(30_060);
  });

  it('computes waits rounded up to whole milliseconds', () => {
    expect(msUntilLevel(0, 1, 7)).toBe(Math.ceil(60_000 / 7));
    expect(msUntilLevel(5, 5, 7)).toBe(0);
    expect(viewOf(2.9999, 3).remaining).toBe(2);
  });
});
