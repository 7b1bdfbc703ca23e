/** One HTTP exchange a client library made: the JSON body it sent and the text it got back. */
export interface RecordedExchange {
  url: string;
  requestBody: Record<string, unknown>;
  status: number;
  responseText: Promise<string>;
}

/**
 * A fetch for client libraries that accept one (`fetch` option): passes everything through and keeps a
 * copy of each request body and response body, so a test can compare what the library reported with the
 * bytes the server sent.
 */
export function recordingFetch(): { fetch: typeof fetch; exchanges: RecordedExchange[] } {
  const exchanges: RecordedExchange[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const [forCaller, forRecord] = response.body ? response.body.tee() : [null, null];
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const url = input instanceof Request ? input.url : String(input);
    exchanges.push({ url, requestBody: body, status: response.status, responseText: new Response(forRecord).text() });
    return new Response(forCaller, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return { fetch: wrapped, exchanges };
}

interface WireToolFragment {
  index: number;
  id?: string;
  function?: { name?: string | null; arguments?: string | null };
}
export interface WireChunk {
  choices: { delta: { content?: string | null; tool_calls?: WireToolFragment[] }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

/** The JSON chunks of a recorded SSE body, without `[DONE]`. */
export async function wireChunks(exchange: RecordedExchange | undefined): Promise<WireChunk[]> {
  if (!exchange) throw new Error('the client made no request');
  const text = await exchange.responseText;
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)) as WireChunk);
}

export function wireContent(chunks: WireChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

/** The usage a stream carried (on its last chunk, whichever shape). */
export function wireUsage(chunks: WireChunk[]): NonNullable<WireChunk['usage']> {
  const usage = chunks.at(-1)?.usage;
  if (!usage) throw new Error('the stream carried no usage on its last chunk');
  return usage;
}

/** The argument fragments of the one call a stream carried, in order. */
export function wireArgumentFragments(chunks: WireChunk[]): string[] {
  return chunks
    .flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])
    .map((fragment) => fragment.function?.arguments ?? '')
    .filter((text) => text !== '');
}
