import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'oruel_';
/** 40 base62 characters: about 238 bits of randomness. */
const API_KEY_RANDOM_LENGTH = 40;
/** Characters shown in listings: the prefix and 4 random ones, enough to tell keys apart. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 4;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The largest multiple of 62 that fits in a byte; bytes at or above it are discarded (no modulo bias). */
const UNBIASED_BYTE_LIMIT = 248;
/** Accepts keys of other lengths than today's so a future change of length does not lock anyone out. */
const API_KEY_SHAPE = /^oruel_[0-9A-Za-z]{32,128}$/;

/** A random string over [0-9A-Za-z], every character equally likely. */
export function randomBase62(length: number): string {
  let result = '';
  while (result.length < length) {
    // Draw a little more than needed: about 3% of bytes are rejected.
    for (const byte of randomBytes(length - result.length + 8)) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue;
      result += BASE62[byte % 62];
      if (result.length === length) break;
    }
  }
  return result;
}

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBase62(API_KEY_RANDOM_LENGTH);
}

/**
 * SHA-256, hex. A fast unsalted hash is right here (unlike passwords): keys are long and random,
 * so nothing can be guessed from the hash, and lookup by hash needs it to be deterministic.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function looksLikeApiKey(value: string): boolean {
  return API_KEY_SHAPE.test(value);
}

/** The part of a key that is safe to store in clear and show in listings (`oruel_AbCd`). */
export function apiKeyDisplayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/** The token of an `Authorization: Bearer <token>` header, or null when there is none. */
export function parseBearer(headerValue: string | undefined): string | null {
  if (headerValue === undefined) return null;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(headerValue);
  return match ? match[1]! : null;
}
