import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ChunkAssembler } from '../../src/assembly/chunk-assembler.js';
import type { StreamPart } from '../../src/engines/engine.js';
import { PartQueue } from '../../src/engines/part-queue.js';
import { streamParts, type StreamJob } from '../../src/http/chat/stream-response.js';
import type { EventSink } from '../../src/sse/event-sink.js';

/**
 * The one stream path's writes, counted on a recording sink: what is already waiting leaves together
 * (a whole instant answer in the final write, with [DONE]); what is not yet there is never waited for
 * (each token is written before the engine makes the next).
 */

type Write = { kind: 'send' | 'done'; events: unknown[] };

function recordingSink(): EventSink & { writes: Write[] } {
  const writes: Write[] = [];
  let open = false;
  return {
    writes,
    get isOpen() {
      return open;
    },
    writable: true,
    keepingUp: true,
    openIfStillWaiting: () => undefined,
    open: () => (open = true),
    send: async (events) => void writes.push({ kind: 'send', events: [...events] }),
    done: (events = []) => void writes.push({ kind: 'done', events: [...events] }),
    end: () => undefined,
  };
}

function job(parts: PartQueue): StreamJob {
  return {
    start: async () => parts,
    assembler: new ChunkAssembler({ id: 'chatcmpl-x', created: 1, model: 'm' }, 1, 'final-chunk'),
    errorEvent: (error) => ({ error }),
    meter: { observe: () => undefined } as never,
    signal: new AbortController().signal,
    cutOffByShutdown: () => false,
    headers: {},
  };
}

const text = (value: string): StreamPart => ({ type: 'text-delta', choice: 0, text: value });
const ending: StreamPart[] = [
  { type: 'finish', choice: 0, finishReason: 'stop' },
  { type: 'usage', usage: { promptTokens: 3, completionTokens: 3, source: 'engine' } },
];
/** An event's content text, whether the assembler gave it as an object or as its JSON already. */
const content = (event: unknown) =>
  (typeof event === 'string' ? JSON.parse(event) : event).choices[0]?.delta?.content as string | undefined;

describe('streamParts writes', () => {
  it('an answer that is all there already leaves in the final write: role, every token as its own event, finish, usage', async () => {
    const sink = recordingSink();
    // As an instant upstream delivers it: the whole answer in one socket read, pushed in one burst.
    const parts = new PartQueue();
    for (const part of [text('a'), text('b'), text('c'), ...ending]) parts.push(part);
    parts.close();
    const outcome = await streamParts(job(parts), sink, {} as ServerResponse);
    expect(outcome.outcome).toBe('completed');
    expect(sink.writes.map((write) => write.kind)).toEqual(['done']);
    const events = sink.writes[0]!.events;
    expect(events.map(content)).toEqual(['', 'a', 'b', 'c', undefined]);
  });

  it('a token that is not there yet is not waited for: each is written before the next is made', async () => {
    const sink = recordingSink();
    const parts = new PartQueue();
    const streaming = streamParts(job(parts), sink, {} as ServerResponse);
    const seen: string[][] = [];
    for (const token of ['a', 'b', 'c']) {
      parts.push(text(token));
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(sink.writes.flatMap((write) => write.events.map(content).filter((value) => value)) as string[]);
    }
    for (const part of ending) parts.push(part);
    parts.close();
    await streaming;
    expect(seen).toEqual([['a'], ['a', 'b'], ['a', 'b', 'c']]);
    expect(sink.writes.at(-1)!.kind).toBe('done');
  });
});
