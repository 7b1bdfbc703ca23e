import { describe, expect, it } from 'vitest';
import {
  apiKeyDisplayPrefix,
  generateApiKey,
  hashApiKey,
  looksLikeApiKey,
  parseBearer,
} from '../../src/auth/api-key.js';
import { randomBase62 } from '../../src/ids/random-base62.js';

describe('generateApiKey', () => {
  it('is oruel_ followed by at least 32 base62 characters', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^oruel_[0-9A-Za-z]{32,}$/);
    expect(key).toHaveLength('oruel_'.length + 40);
    expect(looksLikeApiKey(key)).toBe(true);
  });

  it('never repeats', () => {
    const keys = new Set(Array.from({ length: 2_000 }, generateApiKey));
    expect(keys.size).toBe(2_000);
  });

  it('uses every base62 character about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const sample = randomBase62(124_000);
    for (const character of sample) counts.set(character, (counts.get(character) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Expected 2000 each; a biased generator (byte % 62) gives the first 8 characters ~25% more.
    for (const count of counts.values()) expect(count).toBeGreaterThan(1_750);
    for (const count of counts.values()) expect(count).toBeLessThan(2_250);
  });
});

describe('hashApiKey', () => {
  it('is SHA-256 in hex', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('looksLikeApiKey', () => {
  it('rejects other shapes', () => {
    expect(looksLikeApiKey('oruel_short')).toBe(false);
    expect(looksLikeApiKey(`sk-${'a'.repeat(40)}`)).toBe(false);
    expect(looksLikeApiKey(`oruel_${'a'.repeat(39)}!`)).toBe(false);
    expect(looksLikeApiKey(` oruel_${'a'.repeat(40)}`)).toBe(false);
  });
});

describe('apiKeyDisplayPrefix', () => {
  it('keeps oruel_ and four characters', () => {
    expect(apiKeyDisplayPrefix('oruel_AbCdEfGh')).toBe('oruel_AbCd');
  });
});

describe('parseBearer', () => {
  it('reads the token, whatever the case of "Bearer" and the spacing', () => {
    expect(parseBearer('Bearer oruel_abc')).toBe('oruel_abc');
    expect(parseBearer('bearer oruel_abc')).toBe('oruel_abc');
    expect(parseBearer('BEARER   oruel_abc  ')).toBe('oruel_abc');
    expect(parseBearer('  Bearer\toruel_abc')).toBe('oruel_abc');
  });

  it('returns null when there is no bearer token', () => {
    expect(parseBearer(undefined)).toBeNull();
    expect(parseBearer('')).toBeNull();
    expect(parseBearer('Bearer')).toBeNull();
    expect(parseBearer('Bearer ')).toBeNull();
    expect(parseBearer('Basic dXNlcjpwYXNz')).toBeNull();
    expect(parseBearer('Bearer two tokens')).toBeNull();
    expect(parseBearer('oruel_abc')).toBeNull();
  });
});
