/**
 * Token buckets, pure: no clock, no storage. Every limit is per minute (as OpenAI's): a bucket holds
 * up to `capacity` units and refills its whole capacity over one window, continuously, so a key with
 * rpm 10 may burst 10 requests and then gets one back every 6 s.
 *
 * redis-scripts.ts repeats this arithmetic in Lua (it must run inside Redis to be atomic); the
 * limit-store tests run the same scenarios against both so they cannot drift apart.
 */
export const WINDOW_MS = 60_000;

/**
 * `level` units were available at `updatedAtMs`. The level goes below zero when a request used more
 * tokens than it reserved: a debt the refill pays back before anything else is admitted.
 */
export interface BucketState {
  level: number;
  updatedAtMs: number;
}

/** What the x-ratelimit-* headers say about one bucket. */
export interface BucketView {
  limit: number;
  /** Whole units available now. */
  remaining: number;
  /** Milliseconds until the bucket is full again (OpenAI's "reset"). */
  resetMs: number;
}

export interface TakeResult {
  admitted: boolean;
  /** The state to store when admitted (unchanged level, refreshed time, when not). */
  state: BucketState;
  /** When refused: milliseconds until `amount` units are available. 0 when admitted. */
  retryAfterMs: number;
  view: BucketView;
}

/** The level at `nowMs`; a missing state is a full bucket. A clock behind the stored time refills nothing. */
export function levelAt(state: BucketState | null, capacity: number, nowMs: number): number {
  if (state === null) return capacity;
  const elapsedMs = Math.max(0, nowMs - state.updatedAtMs);
  return Math.min(capacity, state.level + (elapsedMs * capacity) / WINDOW_MS);
}

/** Milliseconds of refill until the level reaches `target` (0 if it already has). */
export function msUntilLevel(level: number, target: number, capacity: number): number {
  if (level >= target) return 0;
  // The epsilon absorbs floating-point noise (20000.0000001 ms is 20000 ms, not 20001).
  return Math.max(1, Math.ceil(((target - level) * WINDOW_MS) / capacity - ROUNDING_EPSILON));
}

const ROUNDING_EPSILON = 1e-6;

export function viewOf(level: number, capacity: number): BucketView {
  return {
    limit: capacity,
    remaining: Math.max(0, Math.floor(level)),
    resetMs: msUntilLevel(level, capacity, capacity),
  };
}

/** Takes `amount` units if that many are available; never partially. */
export function take(state: BucketState | null, capacity: number, amount: number, nowMs: number): TakeResult {
  const level = levelAt(state, capacity, nowMs);
  if (level < amount) {
    return {
      admitted: false,
      state: { level, updatedAtMs: nowMs },
      retryAfterMs: msUntilLevel(level, amount, capacity),
      view: viewOf(level, capacity),
    };
  }
  const after = level - amount;
  return {
    admitted: true,
    state: { level: after, updatedAtMs: nowMs },
    retryAfterMs: 0,
    view: viewOf(after, capacity),
  };
}

/**
 * Gives back `delta` units (a reservation larger than the real usage), or takes more when `delta`
 * is negative (usage beyond the reservation; the level may go below zero). Never above capacity.
 */
export function adjust(state: BucketState | null, capacity: number, delta: number, nowMs: number): BucketState {
  return { level: Math.min(capacity, levelAt(state, capacity, nowMs) + delta), updatedAtMs: nowMs };
}
