/**
 * The floor under the multi-turn TTFT ratio: llama.cpp alone (node-llama-cpp called directly, no
 * server, no chat session), the same model, context size and threads. Times evaluating the last turn's
 * new prompt tokens up to the first generated token twice: on an empty sequence, and on a sequence
 * already holding the turn's reused prefix. Attention over the held tokens makes the second slower
 * whatever the server does; their ratio is what reuse cannot beat.
 */
import { performance } from 'node:perf_hooks';
import { LlamaChat, type Llama, type LlamaContextSequence, type Token } from 'node-llama-cpp';
import type { ChatMessage } from '../src/engines/index.js';
import { toChatHistory } from '../src/engines/llama-cpp/history.js';
import { median } from './stats.js';

export interface FloorOptions {
  modelPath: string;
  /** Per sequence, as the server's model is configured. */
  contextSize: number;
  threads: number;
  rounds: number;
}

export interface MultiTurnFloor {
  /** Prompt tokens of the last turn, as the engine renders and tokenizes its messages. */
  promptTokens: number;
  /** The server counted the same prompt_tokens for that turn (the floor measured the same prompt). */
  sameAsServer: boolean;
  /** Tokens held before the new ones (what the server reused on that turn). */
  heldTokens: number;
  newTokens: number;
  /** Medians over rounds: new tokens -> first generated token. */
  emptyMs: number;
  heldMs: number;
  ratio: number;
}

/**
 * `lastTurn` is the last turn's request (the whole history) and what the server reported for it: its
 * `prompt_tokens` and `cached_tokens` (the tokens held here).
 */
export async function measureMultiTurnFloor(
  llama: Llama,
  options: FloorOptions,
  lastTurn: { messages: readonly ChatMessage[]; promptTokens: number; cachedTokens: number },
): Promise<MultiTurnFloor> {
  const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 'auto' });
  try {
    const context = await model.createContext({ contextSize: options.contextSize, threads: options.threads });
    const sequence = context.getSequence();
    // The engine's own rendering: the chat wrapper LlamaChat picks, over the engine's history mapping.
    const chat = new LlamaChat({ contextSequence: sequence });
    const { contextText } = chat.chatWrapper.generateContextState({ chatHistory: toChatHistory(lastTurn.messages) });
    chat.dispose();
    const prompt = contextText.tokenize(model.tokenizer);
    const held = prompt.slice(0, lastTurn.cachedTokens);
    const fresh = prompt.slice(lastTurn.cachedTokens);
    const empty: number[] = [];
    const withHeld: number[] = [];
    // One warm-up round, then interleaved rounds so drifts of a shared machine hit both alike.
    for (let round = 0; round <= options.rounds; round++) {
      await sequence.clearHistory();
      const emptyMs = await timeToFirstToken(sequence, fresh);
      await sequence.clearHistory();
      await sequence.evaluateWithoutGeneratingNewTokens(held);
      const heldMs = await timeToFirstToken(sequence, fresh);
      if (round === 0) continue;
      empty.push(emptyMs);
      withHeld.push(heldMs);
    }
    await context.dispose();
    const emptyMs = median(empty);
    const heldMs = median(withHeld);
    return {
      promptTokens: prompt.length,
      sameAsServer: prompt.length === lastTurn.promptTokens,
      heldTokens: held.length,
      newTokens: fresh.length,
      emptyMs,
      heldMs,
      ratio: heldMs / emptyMs,
    };
  } finally {
    await model.dispose();
  }
}

/** Evaluates `tokens` where the sequence stands and samples one token greedily; ms until it is out. */
async function timeToFirstToken(sequence: LlamaContextSequence, tokens: Token[]): Promise<number> {
  const started = performance.now();
  const generator = sequence.evaluate(tokens, { temperature: 0 });
  const first = await generator.next();
  const elapsed = performance.now() - started;
  await generator.return();
  if (first.done) throw new Error('llama.cpp produced no token');
  return elapsed;
}

export function floorLine(floor: MultiTurnFloor): string {
  return (
    `llama.cpp alone (node-llama-cpp direct, same model/context/threads): ${floor.newTokens} new tokens -> first token ` +
    `${floor.emptyMs.toFixed(1)} ms on an empty sequence, ${floor.heldMs.toFixed(1)} ms after the turn's ` +
    `${floor.heldTokens.toLocaleString('en-US')} held tokens: ${floor.ratio.toFixed(2)}x, the floor under the reuse ratio` +
    (floor.sameAsServer ? '' : ` (NOTE: ${floor.promptTokens} prompt tokens here, not the server's count)`)
  );
}
