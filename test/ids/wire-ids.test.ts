import { describe, expect, it } from 'vitest';
import { newCompletionId, newRequestId, newTextCompletionId, newToolCallId } from '../../src/ids/wire-ids.js';
import { randomBase62 } from '../../src/ids/random-base62.js';

describe('ids from the pooled random buffer', () => {
  it('have the promised prefixes, lengths and base62 alphabet', () => {
    expect(newRequestId()).toMatch(/^req_[A-Za-z0-9]{24}$/);
    expect(newCompletionId()).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(newTextCompletionId()).toMatch(/^cmpl-[A-Za-z0-9]{29}$/);
    expect(newToolCallId()).toMatch(/^call_[A-Za-z0-9]{24}$/);
  });

  it('never repeat across many refills of the pool, and use the whole alphabet', () => {
    const ids = new Set<string>();
    const characters = new Set<string>();
    // 20,000 x 29 bytes is ~140 refills of the 4 KiB pool, so ids straddle its boundary many times.
    for (let index = 0; index < 20_000; index += 1) {
      const id = randomBase62(29);
      expect(id).toHaveLength(29);
      ids.add(id);
      for (const character of id) characters.add(character);
    }
    expect(ids.size).toBe(20_000);
    expect(characters.size).toBe(62);
  });
});

describe('request ids', () => {
  it('sort by the time they were made, and stay unique within one millisecond', async () => {
    const first = Array.from({ length: 1_000 }, () => newRequestId());
    expect(new Set(first).size).toBe(1_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = newRequestId();
    for (const id of first) expect(id < later).toBe(true);
  });

  it('lead with the creation time in 7 base62 digits, then 17 random characters', () => {
    const before = Date.now();
    const id = newRequestId();
    const after = Date.now();
    let milliseconds = 0;
    for (const character of id.slice(4, 11))
      milliseconds =
        milliseconds * 62 + '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.indexOf(character);
    expect(milliseconds).toBeGreaterThanOrEqual(before);
    expect(milliseconds).toBeLessThanOrEqual(after);
  });
});
