import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest, StreamPart } from '../../src/engines/engine.js';
import { EngineError } from '../../src/engines/engine-error.js';
import { LlamaCppEngine, type LlamaCppEngineOptions } from '../../src/engines/llama-cpp/llama-cpp-engine.js';
import { createLlamaRuntime } from '../../src/engines/llama-cpp/runtime.js';
import { STORIES_MODEL } from '../helpers/paths.js';
import { chatRequest } from '../helpers/chat-request.js';

/**
 * The embedded engine through its interface alone (startChat + AbortSignal -> parts), on the real
 * stories260K model: part order, usage, cancellation running and queued, admission, refusals, close.
 */

let llama: Llama;
const engines: LlamaCppEngine[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'oruel-engine-'));

async function engine(options: Partial<LlamaCppEngineOptions> = {}): Promise<LlamaCppEngine> {
  const created = new LlamaCppEngine({
    llama,
    name: 'stories',
    modelPath: async () => STORIES_MODEL,
    sequences: 1,
    contextSize: 512,
    threads: 1,
    gpuLayers: 'auto',
    maxQueue: 4,
    ...options,
  });
  engines.push(created);
  await created.ready();
  return created;
}

function request(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return chatRequest({ model: 'stories', maxTokens: 40, temperature: 0, ...overrides });
}

interface Timed {
  part: StreamPart;
  at: number;
}

/** Reads parts as they come, with arrival times; `done` resolves when the iterable ends. */
function reader(parts: AsyncIterable<StreamPart>) {
  const seen: Timed[] = [];
  const listeners = new Set<() => void>();
  const done = (async () => {
    for await (const part of parts) {
      seen.push({ part, at: performance.now() });
      for (const listener of [...listeners]) listener();
    }
    return performance.now();
  })();
  const waitFor = (predicate: (part: StreamPart) => boolean) =>
    new Promise<Timed>((resolve, reject) => {
      const check = () => {
        const found = seen.find((entry) => predicate(entry.part));
        if (!found) return;
        listeners.delete(check);
        resolve(found);
      };
      listeners.add(check);
      check();
      void done.then(() => {
        check();
        if (listeners.delete(check))
          reject(
            new Error(
              `the parts ended without the awaited one: ${JSON.stringify(seen.map((entry) => entry.part.type))}`,
            ),
          );
      });
    });
  return { seen, done, waitFor, parts: () => seen.map((entry) => entry.part) };
}

const isText = (part: StreamPart) => part.type === 'text-delta';
const textOf = (parts: StreamPart[], choice = 0) =>
  parts.map((part) => (part.type === 'text-delta' && part.choice === choice ? part.text : '')).join('');
const never = () => new AbortController().signal;

async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

beforeAll(async () => {
  llama = await createLlamaRuntime({ gpu: false, log: () => undefined });
});
afterAll(async () => {
  await Promise.allSettled(engines.map((created) => created.close()));
  rmSync(scratch, { recursive: true, force: true });
});

describe('a completed generation', () => {
  it('reports its id and capabilities once loaded', async () => {
    const created = await engine({ name: 'caps', sequences: 2 });
    expect(created.id).toBe('llama-cpp/caps');
    expect(created.capabilities).toMatchObject({ maxChoices: 2, contextSize: 512, tools: false });
  });

  it('emits text, then the finish, then usage exactly once, last', async () => {
    const created = await engine();
    const read = reader(await created.startChat(request({ maxTokens: 25 }), never()));
    await read.done;
    const parts = read.parts();
    const types = parts.map((part) => part.type);
    expect(types.at(-1)).toBe('usage');
    expect(types.filter((type) => type === 'usage')).toHaveLength(1);
    expect(types.filter((type) => type === 'finish')).toHaveLength(1);
    expect(types.indexOf('finish')).toBeGreaterThan(types.lastIndexOf('text-delta'));
    expect(parts.find((part) => part.type === 'finish')).toEqual({ type: 'finish', choice: 0, finishReason: 'length' });
    expect(parts.at(-1)).toEqual({
      type: 'usage',
      usage: { promptTokens: expect.any(Number), completionTokens: 25, source: 'engine', cachedTokens: 0 },
    });
    expect(textOf(parts).length).toBeGreaterThan(0);
    expect(parts.some((part) => part.type === 'text-delta' && part.text === '')).toBe(false);
  });

  it('n=2 runs both choices on two sequences; usage sums them', async () => {
    const created = await engine({ name: 'two', sequences: 2 });
    const read = reader(await created.startChat(request({ n: 2, maxTokens: 15, temperature: 1, seed: 5 }), never()));
    await read.done;
    const parts = read.parts();
    const finishes = parts
      .filter((part) => part.type === 'finish')
      .map((part) => (part.type === 'finish' ? part.choice : -1));
    expect(finishes.sort()).toEqual([0, 1]);
    expect(textOf(parts, 0)).not.toBe('');
    expect(textOf(parts, 1)).not.toBe('');
    expect(textOf(parts, 0)).not.toBe(textOf(parts, 1));
    expect(parts.at(-1)).toMatchObject({ type: 'usage', usage: { completionTokens: 30 } });
  });
});

describe('cancellation', () => {
  it('an abort mid-generation ends the parts at once, without finish or error, with the tokens produced', async () => {
    const created = await engine();
    const controller = new AbortController();
    const read = reader(await created.startChat(request({ maxTokens: 400, temperature: 0.8 }), controller.signal));
    await read.waitFor(isText);
    const textsBeforeAbort = read.parts().filter(isText).length;
    controller.abort(new Error('client gone'));
    await read.done;
    const parts = read.parts();
    // "At once" counted in tokens, not milliseconds (the machine may be loaded): at most the token
    // being sampled when the signal fired can still arrive.
    expect(parts.filter(isText).length - textsBeforeAbort).toBeLessThanOrEqual(1);
    expect(parts.some((part) => part.type === 'finish' || part.type === 'error')).toBe(false);
    const usage = parts.at(-1);
    expect(usage?.type).toBe('usage');
    if (usage?.type !== 'usage') return;
    expect(usage.usage.promptTokens).toBeGreaterThan(0);
    expect(usage.usage.completionTokens).toBeGreaterThan(0);
    expect(usage.usage.completionTokens).toBeLessThan(400);

    // The only sequence is free again: the next request starts generating right away. A leaked
    // generation would hold it for its remaining tokens; compare with that, at this run's own pace.
    const pace = reader(await created.startChat(request({ maxTokens: 40 }), never()));
    await pace.done;
    const texts = pace.seen.filter((entry) => isText(entry.part));
    const tokenMs = (texts.at(-1)!.at - texts[0]!.at) / Math.max(1, texts.length - 1);
    const leakMs = (400 - usage.usage.completionTokens) * tokenMs;
    const next = reader(await created.startChat(request({ maxTokens: 3 }), never()));
    const startedAt = performance.now();
    const first = await next.waitFor(isText);
    expect(
      first.at - startedAt,
      `first token after ${(first.at - startedAt).toFixed(1)} ms; a leak would take ~${leakMs.toFixed(0)} ms`,
    ).toBeLessThan(leakMs / 4);
    await next.done;
  });

  it('an abort while queued ends with zero usage and leaves the running request alone', async () => {
    const created = await engine();
    const running = reader(await created.startChat(request({ maxTokens: 300 }), never()));
    await running.waitFor(isText);
    const controller = new AbortController();
    const queued = reader(await created.startChat(request({ maxTokens: 5 }), controller.signal));
    controller.abort(new Error('client gone'));
    await queued.done;
    expect(queued.parts()).toEqual([
      { type: 'usage', usage: { promptTokens: 0, completionTokens: 0, source: 'engine', cachedTokens: 0 } },
    ]);
    await running.done;
    expect(running.parts().find((part) => part.type === 'finish')).toMatchObject({ finishReason: 'length' });
    expect(running.parts().at(-1)).toMatchObject({ type: 'usage', usage: { completionTokens: 300 } });
  });

  // Guards a fixed bug: generate() listened for 'abort' on the request's signal, which never fires for
  // a signal that was aborted before the listener was attached (startChat awaits planGeneration first).
  it('a signal aborted before the work starts produces no tokens', async () => {
    const created = await engine();
    const controller = new AbortController();
    controller.abort(new Error('client gone before the start'));
    const read = reader(
      await created.startChat(request({ maxTokens: 300 }), controller.signal).catch(() => (async function* () {})()),
    );
    await read.done;
    const parts = read.parts();
    expect(parts.filter(isText)).toEqual([]);
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
    const usage = parts.find((part) => part.type === 'usage');
    if (usage?.type === 'usage') expect(usage.usage.completionTokens).toBe(0);
  });

  it('an abort that lands while startChat is still preparing (a grammar) stops the work too', async () => {
    const created = await engine();
    const controller = new AbortController();
    const starting = created.startChat(
      request({ maxTokens: 300, responseFormat: { type: 'json_object' } }),
      controller.signal,
    );
    controller.abort(new Error('client gone'));
    const parts = await starting.then(
      async (iterable) => {
        const read = reader(iterable);
        await read.done;
        return read.parts();
      },
      () => [] as StreamPart[],
    );
    const usage = parts.find((part) => part.type === 'usage');
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
    if (usage?.type === 'usage') expect(usage.usage.completionTokens).toBeLessThan(300);
  });
});

describe('admission', () => {
  it('a full queue is refused at once with a retryable overloaded error', async () => {
    const created = await engine({ maxQueue: 1 });
    const running = reader(await created.startChat(request({ maxTokens: 300 }), never()));
    await running.waitFor(isText);
    const queued = reader(await created.startChat(request({ maxTokens: 2 }), never()));
    const error = await rejection(created.startChat(request({ maxTokens: 2 }), never()));
    expect(error.code).toBe('overloaded');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    await Promise.all([running.done, queued.done]);
    expect(queued.parts().find((part) => part.type === 'finish')).toBeDefined();
  });

  it('maxQueue 0: the second request is refused while the first runs, and served after', async () => {
    const created = await engine({ maxQueue: 0 });
    const running = reader(await created.startChat(request({ maxTokens: 200 }), never()));
    await running.waitFor(isText);
    expect((await rejection(created.startChat(request(), never()))).code).toBe('overloaded');
    await running.done;
    const later = reader(await created.startChat(request({ maxTokens: 2 }), never()));
    await later.done;
    expect(later.parts().at(-1)).toMatchObject({ type: 'usage', usage: { completionTokens: 2 } });
  });

  it('FIFO: queued requests start in the order they arrived', async () => {
    const created = await engine({ maxQueue: 8 });
    const running = reader(await created.startChat(request({ maxTokens: 100 }), never()));
    await running.waitFor(isText);
    const queued = [];
    for (let i = 0; i < 3; i += 1) queued.push(reader(await created.startChat(request({ maxTokens: 3 }), never())));
    await Promise.all(queued.map((entry) => entry.done));
    const starts = await Promise.all(queued.map((entry) => entry.waitFor(isText)));
    expect(starts[0]!.at).toBeLessThan(starts[1]!.at);
    expect(starts[1]!.at).toBeLessThan(starts[2]!.at);
  });
});

describe('refusals before any part', () => {
  it.each([
    ['n beyond the sequences', 'invalid_request', 'n', { n: 2 }],
    [
      'tools on a template without tool calls',
      'invalid_request',
      'tools',
      { tools: [{ name: 'f', description: null, parameters: null }], toolChoice: { type: 'auto' } },
    ],
    [
      'a prompt larger than the context',
      'context_length_exceeded',
      'messages',
      { messages: [{ role: 'user', content: 'the cat sat. '.repeat(300) }] },
    ],
    ['max tokens beyond the room left', 'context_length_exceeded', 'max_tokens', { maxTokens: 510 }],
    [
      'a tool result answering no call',
      'invalid_request',
      'messages[1].tool_call_id',
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'tool', content: '1', toolCallId: 'call_nope' },
        ],
      },
    ],
  ] as [string, string, string, Partial<ChatRequest>][])(
    '%s: rejects with %s naming %s, and holds no sequence',
    async (_name, code, param, overrides) => {
      const created = await engine();
      const error = await rejection(created.startChat(request(overrides), never()));
      expect(error.code).toBe(code);
      expect(error.param).toBe(param);
      expect(error.retryable).toBe(false);
      const next = reader(await created.startChat(request({ maxTokens: 2 }), never()));
      await next.done;
      expect(next.parts().at(-1)).toMatchObject({ type: 'usage', usage: { completionTokens: 2 } });
    },
  );
});

describe('loading and closing', () => {
  it('a file that is not GGUF fails ready() with a message saying so', async () => {
    const path = join(scratch, 'not-a-model.gguf');
    writeFileSync(path, 'this is a text file, not a model\n');
    const broken = new LlamaCppEngine({
      llama,
      name: 'broken',
      modelPath: async () => path,
      sequences: 1,
      contextSize: 512,
      threads: 1,
      gpuLayers: 'auto',
      maxQueue: 1,
    });
    engines.push(broken);
    await expect(broken.ready()).rejects.toThrow(/GGUF/i);
    expect((await rejection(broken.startChat(request(), never()))).code).toBe('unavailable');
  });

  it('a missing file fails ready()', async () => {
    const missing = new LlamaCppEngine({
      llama,
      name: 'missing',
      modelPath: async () => join(scratch, 'nope.gguf'),
      sequences: 1,
      contextSize: 512,
      threads: 1,
      gpuLayers: 'auto',
      maxQueue: 1,
    });
    engines.push(missing);
    await expect(missing.ready()).rejects.toThrow(/nope\.gguf|ENOENT|no such file/i);
  });

  it('close() ends a queued request with an unavailable error and refuses new work', async () => {
    const created = await engine();
    const running = reader(await created.startChat(request({ maxTokens: 300 }), never()));
    await running.waitFor(isText);
    const queued = reader(await created.startChat(request({ maxTokens: 3 }), never()));
    await created.close();
    await Promise.all([running.done, queued.done]);
    const queuedParts = queued.parts();
    expect(queuedParts[0]).toMatchObject({ type: 'error', error: { code: 'unavailable' } });
    expect(queuedParts.at(-1)).toEqual({
      type: 'usage',
      usage: { promptTokens: 0, completionTokens: 0, source: 'engine', cachedTokens: 0 },
    });
    // The running one ends too, and says how it ended: never a clean finish cut short silently.
    const runningParts = running.parts();
    const ended = runningParts.find((part) => part.type === 'finish' || part.type === 'error');
    expect(ended).toBeDefined();
    if (ended?.type === 'finish')
      expect(runningParts.at(-1)).toMatchObject({ type: 'usage', usage: { completionTokens: 300 } });
    const error = await rejection(created.startChat(request(), never()));
    expect(error.code).toBe('unavailable');
  });

  // Guards a fixed bug: after close() startChat said the model "is still loading; retry shortly",
  // which sent clients into retries against an engine that is gone.
  it('after close(), the refusal says the engine is shut down, not loading', async () => {
    const created = await engine();
    await created.close();
    const error = await rejection(created.startChat(request(), never()));
    expect(error.message).not.toMatch(/loading/i);
  });
});
