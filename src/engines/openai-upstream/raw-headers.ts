/** The few response headers the adapter reads, taken from undici's raw `[name, value, ...]` buffers. */
export interface ResponseHeaders {
  contentType: string;
  retryAfter: string | undefined;
  retryAfterMs: string | undefined;
}

export function readResponseHeaders(raw: readonly Buffer[]): ResponseHeaders {
  const headers: ResponseHeaders = { contentType: '', retryAfter: undefined, retryAfterMs: undefined };
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!.toString('latin1').toLowerCase();
    if (name === 'content-type') headers.contentType = raw[index + 1]!.toString('latin1').toLowerCase();
    else if (name === 'retry-after') headers.retryAfter = raw[index + 1]!.toString('latin1');
    else if (name === 'retry-after-ms') headers.retryAfterMs = raw[index + 1]!.toString('latin1');
  }
  return headers;
}
