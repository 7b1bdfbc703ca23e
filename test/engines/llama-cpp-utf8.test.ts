import { LlamaChat, type ChatHistoryItem, type LlamaContext, type LlamaModel, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest, StreamPart } from '../../src/engines/engine.js';
import { LlamaCppEngine } from '../../src/engines/llama-cpp/llama-cpp-engine.js';
import { createLlamaRuntime } from '../../src/engines/llama-cpp/runtime.js';
import { TINY_RANDOM_MODEL } from '../helpers/paths.js';
import { chatRequest } from '../helpers/chat-request.js';

/**
 * The engine streams node-llama-cpp's text chunks as they come. These tests pin what that relies on,
 * with the 32k Llama-2 vocabulary of llama-2-tiny-random (byte-fallback tokens, every script):
 * the chunks of one generation join to exactly the detokenized tokens (no character is split into two
 * U+FFFD halves at a chunk boundary), and each chunk is a well-formed string.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const SEEDS = [1, 2, 3, 4, 5, 6];
const prompt = 'Bonjour, 世界! Привет';

let model: LlamaModel;
let context: LlamaContext;
let chat: LlamaChat;
let engine: LlamaCppEngine;

/** A direct node-llama-cpp generation: its tokens, its text chunks, and the detokenized whole. */
async function direct(seed: number) {
  const history: ChatHistoryItem[] = [
    { type: 'user', text: prompt },
    { type: 'model', response: [] },
  ];
  const tokens: Token[] = [];
  const chunks: string[] = [];
  await chat.generateResponse(history, {
    maxTokens: 200,
    temperature: 1,
    topP: 1,
    seed,
    onToken: (batch) => tokens.push(...batch),
    onTextChunk: (chunk) => chunks.push(chunk),
  });
  return { tokens, chunks, text: model.detokenize(tokens) };
}

beforeAll(async () => {
  const llama = await createLlamaRuntime({ gpu: false, log: () => undefined });
  model = await llama.loadModel({ modelPath: TINY_RANDOM_MODEL });
  context = await model.createContext({ sequences: 1, contextSize: 512, threads: 1 });
  chat = new LlamaChat({ contextSequence: context.getSequence() });
  engine = new LlamaCppEngine({
    llama,
    name: 'tiny',
    modelPath: async () => TINY_RANDOM_MODEL,
    sequences: 1,
    contextSize: 512,
    threads: 1,
    gpuLayers: 'auto',
    maxQueue: 4,
  });
  await engine.ready();
});
afterAll(async () => {
  await engine?.close();
  chat?.dispose();
  await context?.dispose();
  await model?.dispose();
});

describe('node-llama-cpp text chunks (what the engine forwards)', () => {
  it.each(SEEDS)('seed %i: chunks join to the detokenized tokens', async (seed) => {
    const { tokens, chunks, text } = await direct(seed);
    expect(tokens.length).toBe(200);
    expect(chunks.join('')).toBe(text);
    for (const chunk of chunks) expect(LONE_SURROGATE.test(chunk), JSON.stringify(chunk)).toBe(false);
  });
});

describe('the engine', () => {
  it('emits well-formed text deltas that join to the detokenized tokens of a direct run with the same seed', async () => {
    let multiByte = 0;
    for (const seed of SEEDS) {
      const request: ChatRequest = chatRequest({
        model: 'tiny',
        messages: [{ role: 'user', content: prompt }],
        maxTokens: 200,
        temperature: 1,
        seed,
      });
      const run = async () => {
        const parts: StreamPart[] = [];
        for await (const part of await engine.startChat(request, new AbortController().signal)) parts.push(part);
        return parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : []));
      };
      const deltas = await run();
      for (const delta of deltas) expect(LONE_SURROGATE.test(delta), JSON.stringify(delta)).toBe(false);
      // Same model file, context size, sampling (temperature 1, top_p 1, no penalties) and seed.
      const reference = await direct(seed);
      expect(deltas.join('')).toBe(reference.text);
      expect(deltas.join('').split('\uFFFD').length).toBe(reference.text.split('\uFFFD').length);
      multiByte += [...reference.text].filter((char) => Buffer.byteLength(char) >= 3).length;
    }
    expect(multiByte).toBeGreaterThan(20);
  });
});
