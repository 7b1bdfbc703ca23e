/**
 * Delay before retry number `attempt` (1 = first retry): doubling from `baseMs` up to `maxMs`, with
 * jitter so replicas that lost the same database do not all come back at the same instant.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
