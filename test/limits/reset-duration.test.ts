import { describe, expect, it } from 'vitest';
import { formatResetDuration } from '../../src/limits/reset-duration.js';

describe('formatResetDuration (OpenAI x-ratelimit-reset-* format)', () => {
  it.each([
    [0, '0ms'],
    [17, '17ms'],
    [120, '120ms'],
    [999.2, '1s'],
    [998.5, '999ms'],
    [1_000, '1s'],
    [6_000, '6s'],
    [8_640, '8.64s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [61_500, '1m1.5s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
    [-5, '0ms'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });
});
