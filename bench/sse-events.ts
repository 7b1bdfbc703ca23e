/**
 * The `data:` payloads of a server-sent event stream, as they arrive. Minimal on purpose (the server
 * under test writes `data: <json>\n\n` events and `: keep-alive` comments only); the time each payload
 * was seen is taken by the caller.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let boundary = buffer.indexOf('\n\n');
      while (boundary >= 0) {
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        for (const line of event.split('\n'))
          if (line.startsWith('data:')) yield line.slice(line.startsWith('data: ') ? 6 : 5);
        boundary = buffer.indexOf('\n\n');
      }
    }
  } finally {
    reader.releaseLock();
  }
}
