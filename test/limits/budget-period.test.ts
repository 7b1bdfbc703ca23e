import { describe, expect, it } from 'vitest';
import { periodWindow } from '../../src/limits/budget-period.js';

const at = (iso: string) => Date.parse(iso);

describe('budget periods (UTC calendar)', () => {
  it('a day runs from midnight to midnight UTC', () => {
    expect(periodWindow('day', at('2025-03-15T23:59:59.999Z'))).toEqual({
      id: 'day:2025-03-15',
      startMs: at('2025-03-15T00:00:00Z'),
      endMs: at('2025-03-16T00:00:00Z'),
    });
  });

  it('a week starts on Monday', () => {
    // 2025-03-16 is a Sunday: still the week of Monday 2025-03-10.
    expect(periodWindow('week', at('2025-03-16T12:00:00Z'))).toMatchObject({
      id: 'week:2025-03-10',
      endMs: at('2025-03-17T00:00:00Z'),
    });
    expect(periodWindow('week', at('2025-03-17T00:00:00Z')).id).toBe('week:2025-03-17');
  });

  it('a month ends at the first of the next one, across years', () => {
    expect(periodWindow('month', at('2024-02-29T10:00:00Z'))).toEqual({
      id: 'month:2024-02-01',
      startMs: at('2024-02-01T00:00:00Z'),
      endMs: at('2024-03-01T00:00:00Z'),
    });
    expect(periodWindow('month', at('2025-12-31T23:00:00Z')).endMs).toBe(at('2026-01-01T00:00:00Z'));
  });
});
