import type { Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, StreamPart, Usage } from '../../src/engines/engine.js';
import { LlamaCppEngine, type LlamaCppEngineOptions } from '../../src/engines/llama-cpp/llama-cpp-engine.js';
import { createLlamaRuntime } from '../../src/engines/llama-cpp/runtime.js';
import { chatRequest } from '../helpers/chat-request.js';
import { STORIES_MODEL } from '../helpers/paths.js';

/**
 * Multi-turn chats on the embedded engine: a request whose prompt begins with what a sequence already
 * evaluated (the conversation so far) evaluates only its new tokens, lands on the sequence holding its
 * history, and answers exactly what a cold sequence answers.
 */

let llama: Llama;
const engines: LlamaCppEngine[] = [];

async function engine(options: Partial<LlamaCppEngineOptions> = {}): Promise<LlamaCppEngine> {
  const created = new LlamaCppEngine({
    llama,
    name: 'stories',
    modelPath: async () => STORIES_MODEL,
    sequences: 1,
    contextSize: 1024,
    threads: 1,
    gpuLayers: 'auto',
    maxQueue: 4,
    ...options,
  });
  engines.push(created);
  await created.ready();
  return created;
}

interface Turn {
  text: string;
  usage: Usage;
  /** Prompt tokens the sequences evaluated for this request (read from node-llama-cpp's token meters). */
  evaluatedInput: number;
}

async function turn(created: LlamaCppEngine, messages: ChatMessage[], meterOf: () => number): Promise<Turn> {
  const before = meterOf();
  const parts: StreamPart[] = [];
  for await (const part of await created.startChat(
    chatRequest({ model: 'stories', messages, maxTokens: 30, temperature: 0 }),
    new AbortController().signal,
  ))
    parts.push(part);
  const usage = parts.find((part) => part.type === 'usage');
  if (usage?.type !== 'usage') throw new Error('no usage part');
  const text = parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join('');
  return { text, usage: usage.usage, evaluatedInput: meterOf() - before };
}

/** Three turns of one conversation: each request carries the whole history, as chat clients send it. */
async function conversation(created: LlamaCppEngine, meterOf: () => number, topic: string): Promise<Turn[]> {
  const messages: ChatMessage[] = [];
  const turns: Turn[] = [];
  for (const question of [`Tell me a story about ${topic}.`, 'What happened next?', 'And how did it end?']) {
    messages.push({ role: 'user', content: question });
    const answered = await turn(created, [...messages], meterOf);
    turns.push(answered);
    messages.push({ role: 'assistant', content: answered.text, toolCalls: [] });
  }
  return turns;
}

/** node-llama-cpp counts every token a sequence evaluates as input; this sums them over an engine's sequences. */
function inputMeter(created: LlamaCppEngine): () => number {
  const pool = (
    created as unknown as { loaded: { pool: { slots: { sequence: { tokenMeter: { usedInputTokens: number } } }[] } } }
  ).loaded.pool;
  return () => pool.slots.reduce((sum, slot) => sum + slot.sequence.tokenMeter.usedInputTokens, 0);
}

beforeAll(async () => {
  llama = await createLlamaRuntime({ gpu: false, log: () => undefined });
});
afterAll(async () => {
  await Promise.allSettled(engines.map((created) => created.close()));
});

describe('prefix reuse across turns', () => {
  it('answers every turn exactly as a cold sequence does, with the same prompt_tokens, evaluating only the new tokens', async () => {
    const warm = await engine();
    const cold = await engine({ reusePrefix: false });
    const reused = await conversation(warm, inputMeter(warm), 'a cat');
    const fresh = await conversation(cold, inputMeter(cold), 'a cat');
    expect(reused.map((entry) => entry.text)).toEqual(fresh.map((entry) => entry.text));
    expect(reused.map((entry) => entry.usage.promptTokens)).toEqual(fresh.map((entry) => entry.usage.promptTokens));
    expect(fresh.map((entry) => entry.usage.cachedTokens)).toEqual([0, 0, 0]);
    expect(reused[0]!.usage.cachedTokens).toBe(0);
    for (const later of reused.slice(1)) {
      const cached = later.usage.cachedTokens ?? 0;
      // Most of the prompt is the history this sequence evaluated a turn ago.
      expect(cached).toBeGreaterThan(later.usage.promptTokens / 2);
      // What the sequence really evaluated: the prompt minus what it held (plus the tokens it generated).
      expect(later.evaluatedInput).toBeLessThan(later.usage.promptTokens - cached + 30 + 2);
    }
    for (const later of fresh.slice(1))
      expect(later.evaluatedInput).toBeGreaterThanOrEqual(later.usage.promptTokens - 1);
  });

  it('two interleaved conversations each land on the sequence that holds their history', async () => {
    const created = await engine({ sequences: 2 });
    const meter = inputMeter(created);
    const first: ChatMessage[] = [{ role: 'user', content: 'Tell me a story about a dog.' }];
    const second: ChatMessage[] = [{ role: 'user', content: 'Tell me a story about the sea and a boat.' }];
    const a1 = await turn(created, first, meter);
    const b1 = await turn(created, second, meter);
    first.push({ role: 'assistant', content: a1.text, toolCalls: [] }, { role: 'user', content: 'More, please.' });
    second.push({ role: 'assistant', content: b1.text, toolCalls: [] }, { role: 'user', content: 'More, please.' });
    // Least-recently-used order alone would put the first conversation on the second's sequence.
    const b2 = await turn(created, second, meter);
    const a2 = await turn(created, first, meter);
    for (const later of [a2, b2]) expect(later.usage.cachedTokens).toBeGreaterThan(later.usage.promptTokens / 2);
  });
});
