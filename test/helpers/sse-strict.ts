/**
 * A strict reading of an Oru-el event stream: the body must be nothing but `data: <one line>\n\n`
 * events and `: keep-alive\n\n` comments, ending with `data: [DONE]\n\n` (or, after an error event,
 * with that event). Anything else (a missing blank line, `\r\n`, an `event:` field, bytes after
 * `[DONE]`) is reported, so a test that uses it fails on the smallest framing mistake.
 */
interface StrictEvent {
  /** The payload after `data: `. */
  data: string;
  /** Byte-free position in the text, for messages. */
  offset: number;
}

export interface StrictParse {
  events: StrictEvent[];
  comments: string[];
  /** Framing violations; empty for a well-formed stream. */
  problems: string[];
}

const EVENT = /data: ([^\n]*)\n\n|: keep-alive\n\n/y;

export function parseStrict(text: string): StrictParse {
  const events: StrictEvent[] = [];
  const comments: string[] = [];
  const problems: string[] = [];
  EVENT.lastIndex = 0;
  let position = 0;
  while (position < text.length) {
    EVENT.lastIndex = position;
    const match = EVENT.exec(text);
    if (!match) {
      problems.push(
        `bytes that are not an event at offset ${position}: ${JSON.stringify(text.slice(position, position + 80))}`,
      );
      break;
    }
    if (match[1] === undefined) comments.push(match[0].trimEnd());
    else events.push({ data: match[1], offset: position });
    position = EVENT.lastIndex;
  }
  for (const event of events) {
    if (event.data === '[DONE]') continue;
    try {
      const parsed: unknown = JSON.parse(event.data);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        problems.push(`event at ${event.offset} is not a JSON object`);
    } catch {
      problems.push(`event at ${event.offset} is not JSON: ${event.data.slice(0, 80)}`);
    }
  }
  return { events, comments, problems };
}

/** One `reader.read()` of a response body: when it arrived and what it held. */
interface TimedRead {
  atMs: number;
  text: string;
}

export interface TimedStream {
  status: number;
  headers: Headers;
  /** When fetch resolved (status and headers received), ms after the request was sent. */
  headersAtMs: number;
  reads: TimedRead[];
  /** When the body ended, ms after the request was sent. */
  endAtMs: number;
  text: string;
  /** Each complete `data:` payload with the time of the read that completed it. */
  events: { data: string; atMs: number; read: number }[];
}

/** Reads a response as a browser would (getReader + TextDecoder), timing every read. */
export async function readTimed(url: string, init: RequestInit): Promise<TimedStream> {
  const started = performance.now();
  const response = await fetch(url, init);
  const headersAtMs = performance.now() - started;
  if (!response.body) throw new Error('response has no body');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const reads: TimedRead[] = [];
  const events: TimedStream['events'] = [];
  let text = '';
  let pending = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const atMs = performance.now() - started;
    const chunk = decoder.decode(value, { stream: true });
    reads.push({ atMs, text: chunk });
    text += chunk;
    pending += chunk;
    let boundary: number;
    while ((boundary = pending.indexOf('\n\n')) >= 0) {
      const block = pending.slice(0, boundary);
      pending = pending.slice(boundary + 2);
      if (block.startsWith('data: ')) events.push({ data: block.slice(6), atMs, read: reads.length - 1 });
    }
  }
  return {
    status: response.status,
    headers: response.headers,
    headersAtMs,
    reads,
    endAtMs: performance.now() - started,
    text,
    events,
  };
}
