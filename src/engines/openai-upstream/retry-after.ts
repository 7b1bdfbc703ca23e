/**
 * The wait an upstream asks for, in milliseconds: OpenAI's `retry-after-ms` first (finer), then
 * `retry-after` as seconds or an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(
  retryAfterMs: string | undefined,
  retryAfter: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (retryAfterMs !== undefined) {
    const millis = Number(retryAfterMs);
    if (Number.isFinite(millis) && millis >= 0) return millis;
  }
  if (retryAfter === undefined) return undefined;
  const seconds = Number(retryAfter);
  if (retryAfter.trim() !== '' && Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
