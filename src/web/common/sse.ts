/**
 * The `data:` payloads of an SSE body, read exactly as the product's browser example reads them:
 * fetch's reader, a streaming TextDecoder, lines split on "\n" with the incomplete one kept, the
 * `data: ` prefix, and `[DONE]` as the end. Each payload is yielded as soon as its line is complete.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6).trim();
        if (data === '[DONE]') return;
        yield data;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
