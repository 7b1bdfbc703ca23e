import type { BudgetPeriod } from '../auth/index.js';
import { assertNever } from '../engines/index.js';

export interface PeriodWindow {
  /** Names the period (`month:2025-03-01`): the budget counter of one period has its own key. */
  id: string;
  startMs: number;
  endMs: number;
}

/** The UTC calendar period containing `nowMs`; weeks start on Monday (ISO 8601). */
export function periodWindow(period: BudgetPeriod, nowMs: number): PeriodWindow {
  const now = new Date(nowMs);
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  let startMs: number;
  let endMs: number;
  switch (period) {
    case 'day':
      startMs = dayStart;
      endMs = dayStart + DAY_MS;
      break;
    case 'week': {
      const daysSinceMonday = (now.getUTCDay() + 6) % 7;
      startMs = dayStart - daysSinceMonday * DAY_MS;
      endMs = startMs + 7 * DAY_MS;
      break;
    }
    case 'month':
      startMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
      endMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      break;
    default:
      return assertNever(period);
  }
  return { id: `${period}:${new Date(startMs).toISOString().slice(0, 10)}`, startMs, endMs };
}

const DAY_MS = 86_400_000;
