import { randomFillSync } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Random bytes fetched 4 KiB at a time: one getrandom call serves ~140 ids instead of one each.
 * Module state, but no behaviour hangs on it: it is entropy not yet used, and every byte is used once.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * A random base62 string from a pooled buffer of cryptographic random bytes (each byte used once).
 * The bias of `byte % 62` is irrelevant for identifiers (API keys use rejection sampling, not this).
 */
export function randomId(length: number): string {
  if (length > POOL_BYTES) throw new RangeError(`randomId: at most ${POOL_BYTES} characters`);
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  let id = '';
  for (let index = offset, end = offset + length; index < end; index += 1) id += ALPHABET[pool[index]! % 62];
  offset += length;
  return id;
}

export const newRequestId = (): string => `req_${randomId(24)}`;
export const newCompletionId = (): string => `chatcmpl-${randomId(29)}`;
export const newToolCallId = (): string => `call_${randomId(24)}`;
