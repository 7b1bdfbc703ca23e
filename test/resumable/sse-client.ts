import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/** One server-sent event as a client sees it: its `id:` (null without one) and its `data:`. */
export interface SseEvent {
  id: number | null;
  data: string;
}

export interface SseRead {
  status: number;
  headers: IncomingHttpHeaders;
  events: SseEvent[];
  /** The body when the answer was not an event stream (an error). */
  text: string;
  /** The client dropped the connection itself after `dropAfter` events. */
  dropped: boolean;
}

export interface SseRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: unknown;
  /** Destroy the socket once this many data events were parsed (0: right after the headers). */
  dropAfter?: number;
}

/**
 * A request on its own socket, its SSE parsed as bytes arrive (`id:` and `data:` lines, comments
 * skipped). With `dropAfter`, the client goes away at that point like a phone losing its network: the
 * events it had parsed are all it got, whatever the server had already written.
 */
export function readSse(url: string, options: SseRequest): Promise<SseRead> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const request = httpRequest(url, {
      method: options.method,
      headers: { ...options.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
      agent: false,
    });
    request.on('error', (error) => (settled ? undefined : reject(error)));
    let settled = false;
    request.on('response', (response) => {
      const read: SseRead = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        events: [],
        text: '',
        dropped: false,
      };
      const finish = () => {
        if (settled) return;
        settled = true;
        resolve(read);
      };
      const drop = () => {
        read.dropped = true;
        finish();
        response.destroy();
        request.destroy();
      };
      if (options.dropAfter === 0) return drop();
      let pending = '';
      let id: number | null = null;
      let data: string[] = [];
      response.setEncoding('utf8');
      response.on('data', (text: string) => {
        if (settled) return;
        read.text += text;
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line === '') {
            if (data.length > 0) read.events.push({ id, data: data.join('\n') });
            id = null;
            data = [];
            if (options.dropAfter !== undefined && read.events.length >= options.dropAfter) return drop();
          } else if (line.startsWith('id: ')) id = Number(line.slice(4));
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
      });
      response.on('end', finish);
      response.on('close', finish);
      response.on('error', finish);
    });
    request.end(body);
  });
}

/** The text of choice 0 over chat chunks (`[DONE]` and error events skipped). */
export function contentOf(events: readonly SseEvent[]): string {
  let text = '';
  for (const event of events) {
    if (event.data === '[DONE]') continue;
    const chunk = JSON.parse(event.data) as { choices?: { index: number; delta?: { content?: string | null } }[] };
    for (const choice of chunk.choices ?? [])
      if (choice.index === 0 && choice.delta?.content) text += choice.delta.content;
  }
  return text;
}
