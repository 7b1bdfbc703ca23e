import type { LimitViews } from './limit-store.js';
import { formatResetDuration } from './reset-duration.js';

/**
 * OpenAI's x-ratelimit-* headers for the limits a key has. A dimension without a limit sends no
 * headers: a made-up number would tell clients to pace themselves for nothing.
 */
export function rateLimitHeaders(views: LimitViews): Record<string, string> {
  const headers: Record<string, string> = {};
  if (views.requests !== null) {
    headers['x-ratelimit-limit-requests'] = String(views.requests.limit);
    headers['x-ratelimit-remaining-requests'] = String(views.requests.remaining);
    headers['x-ratelimit-reset-requests'] = formatResetDuration(views.requests.resetMs);
  }
  if (views.tokens !== null) {
    headers['x-ratelimit-limit-tokens'] = String(views.tokens.limit);
    headers['x-ratelimit-remaining-tokens'] = String(views.tokens.remaining);
    headers['x-ratelimit-reset-tokens'] = formatResetDuration(views.tokens.resetMs);
  }
  return headers;
}
