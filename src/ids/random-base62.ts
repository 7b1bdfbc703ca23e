import { randomFillSync } from 'node:crypto';

/**
 * The one base62 generator: request, completion and tool-call ids (ids/wire-ids.ts), key ids
 * and API keys (auth/) all draw from it. It sits in ids/, below every step, so both may import it.
 */
/** In ASCII order, so fixed-width numbers in these digits sort as text in numeric order. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The largest multiple of 62 that fits in a byte; bytes at or above it are discarded (no modulo bias). */
const UNBIASED_BYTE_LIMIT = 248;

/**
 * Cryptographic random bytes fetched 4 KiB at a time: one getrandom call serves ~140 ids instead of
 * one each (ids are minted on every request's hot path). Module state, but no behaviour hangs on it:
 * it is entropy not yet used, and every byte is used at most once.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** A random string over [0-9A-Za-z], every character equally likely (rejection sampling, ~3% of bytes dropped). */
export function randomBase62(length: number): string {
  let result = '';
  while (result.length < length) {
    if (offset === POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const byte = pool[offset]!;
    offset += 1;
    if (byte < UNBIASED_BYTE_LIMIT) result += BASE62[byte % 62];
  }
  return result;
}
