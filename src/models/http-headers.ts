/** `Content-Range: bytes START-END/TOTAL` of a 206; TOTAL may be `*` (unknown). */
export interface ContentRange {
  start: number;
  end: number;
  total: number | null;
}

const SATISFIED_RANGE = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i;
const UNSATISFIED_RANGE = /^bytes\s+\*\/(\d+)$/i;

export function parseContentRange(value: string | null): ContentRange | null {
  const match = value?.trim().match(SATISFIED_RANGE);
  if (!match) return null;
  const [, start, end, total] = match;
  return { start: Number(start), end: Number(end), total: total === '*' ? null : Number(total) };
}

// The total a 416 reports in `Content-Range: bytes */TOTAL`, or null when absent.
export function parseUnsatisfiedRangeTotal(value: string | null): number | null {
  const match = value?.trim().match(UNSATISFIED_RANGE);
  return match ? Number(match[1]) : null;
}

/** The body's size on the wire; null when unknown, or when it was compressed (fetch inflates it). */
export function bodyLength(headers: Headers): number | null {
  const encoding = headers.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') return null;
  return parseLength(headers.get('content-length'));
}

/**
 * The file's size as a HEAD reports it. Hugging Face answers a HEAD on an LFS file with a redirect
 * and `X-Linked-Size`; a mirror that does not redirect gives `Content-Length`.
 */
export function headFileSize(headers: Headers): number | null {
  return parseLength(headers.get('content-length')) ?? parseLength(headers.get('x-linked-size'));
}

function parseLength(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value);
}
