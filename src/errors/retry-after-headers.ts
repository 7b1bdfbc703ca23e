/**
 * `Retry-After` (whole seconds, rounded up so a client never comes back early) and `retry-after-ms`
 * (exact; the OpenAI SDKs prefer it and wait exactly this long before their retry). The one place
 * that turns a wait into these headers: our own 429s (limits/) and an upstream's (GatewayError).
 */
export function retryAfterHeaders(retryAfterMs: number): Record<string, string> {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  return { 'retry-after': String(Math.ceil(ms / 1_000)), 'retry-after-ms': String(ms) };
}
