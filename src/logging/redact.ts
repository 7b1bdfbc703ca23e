/** What replaces a secret in a log line. */
export const REDACTED = '[redacted]';

/** Fields that never reach a log line, wherever they appear in a logged object (pino `redact` paths). */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'key',
];

/**
 * The URL with every query value replaced: a key or an admin token sent as `?api_key=` or `?token=`
 * (some clients do) must not end up in a log. Parameter names stay, for debugging.
 */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const query = url
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals < 0 ? pair : `${pair.slice(0, equals)}=${REDACTED}`;
    })
    .join('&');
  return `${url.slice(0, question)}?${query}`;
}

/** A database or Redis URL with its password (and any query, which may carry one) masked. */
export function maskUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    for (const name of [...parsed.searchParams.keys()])
      if (/pass|secret|token|key/i.test(name)) parsed.searchParams.set(name, '****');
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:****@');
  }
}
