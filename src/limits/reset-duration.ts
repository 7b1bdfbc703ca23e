/**
 * A duration as OpenAI writes it in x-ratelimit-reset-*: Go's time.Duration format at millisecond
 * precision, e.g. `120ms`, `6s`, `8.64s`, `1m0s`, `1h2m3s`. Clients parse these strings, so the
 * shape follows OpenAI's exactly rather than a format of our own.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1_000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = secondsText(total % 60_000);
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** `8640` -> `8.64`, `6000` -> `6`: fractional digits only when there are any. */
function secondsText(ms: number): string {
  const whole = Math.floor(ms / 1_000);
  const fraction = ms % 1_000;
  if (fraction === 0) return String(whole);
  return `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
}
