/** A raw SSE reading of a response, for tests that check the bytes rather than an SDK's view. */
export interface RawStream {
  status: number;
  headers: Headers;
  /** Each `data:` payload, in order (`[DONE]` included as the string). */
  events: string[];
  /** Comment lines (`: keep-alive`). */
  comments: string[];
  /** The whole body as received. */
  text: string;
}

export async function readRawStream(url: string, init: RequestInit): Promise<RawStream> {
  const response = await fetch(url, init);
  const text = await response.text();
  const events: string[] = [];
  const comments: string[] = [];
  for (const block of text.split('\n\n')) {
    for (const line of block.split('\n')) {
      if (line.startsWith('data: ')) events.push(line.slice(6));
      else if (line.startsWith(':')) comments.push(line);
    }
  }
  return { status: response.status, headers: response.headers, events, comments, text };
}

/** The JSON chunks of a stream, without `[DONE]`. */
export function jsonEvents(stream: RawStream): Record<string, unknown>[] {
  return stream.events
    .filter((event) => event !== '[DONE]')
    .map((event) => JSON.parse(event) as Record<string, unknown>);
}
