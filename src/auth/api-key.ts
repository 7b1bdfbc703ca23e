import crypto from 'node:crypto';
import { randomBase62 } from '../ids/index.js';

export const API_KEY_PREFIX = 'oruel_';
/** 40 base62 characters: about 238 bits of randomness. */
const API_KEY_RANDOM_LENGTH = 40;
/** Characters shown in listings: the prefix and 4 random ones, enough to tell keys apart. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 4;
/** Accepts keys of other lengths than today's so a future change of length does not lock anyone out. */
const API_KEY_SHAPE = /^oruel_[0-9A-Za-z]{32,128}$/;

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBase62(API_KEY_RANDOM_LENGTH);
}

/**
 * `crypto.hash` (Node 20.12+) hashes a string in one native call, a quarter of the time of a Hash
 * object (the key is hashed on every request); older Node versions, which `engines` still allows, lack it.
 */
const oneShotHash = (crypto as Partial<typeof crypto>).hash;

/**
 * SHA-256, hex. A fast unsalted hash is right here (unlike passwords): keys are long and random,
 * so nothing can be guessed from the hash, and lookup by hash needs it to be deterministic.
 */
export function hashApiKey(key: string): string {
  return oneShotHash === undefined
    ? crypto.createHash('sha256').update(key, 'utf8').digest('hex')
    : oneShotHash('sha256', key, 'hex');
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
