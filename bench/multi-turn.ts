/**
 * Multi-turn chats on the embedded engine: one conversation of `TURNS` turns, each request carrying
 * the whole history (as chat clients send it), on the model with prefix reuse and on the same model
 * with it off, in alternating rounds. Reports time to first token per turn, prompt and cached tokens,
 * and whether both gave the same text at temperature 0.
 */
import { performance } from 'node:perf_hooks';
import { BENCH_SEED } from './direct.js';
import type { ChatMessage } from '../src/engines/index.js';
import { floorLine, type MultiTurnFloor } from './multi-turn-floor.js';
import { sseData } from './sse-events.js';
import { median } from './stats.js';
import type { ServerTarget } from './through-server.js';

export const TURNS = 10;
/** Per turn: a ~30-token question and a reply of this many tokens; history reaches ~1,500 tokens at turn 10. */
const REPLY_TOKENS = 140;

interface TurnSample {
  ttftMs: number;
  promptTokens: number;
  cachedTokens: number;
  text: string;
}

export interface MultiTurnFigures {
  /** Per turn (index 0 = turn 1): medians over rounds. */
  turns: { promptTokens: number; cachedTokens: number; reuseTtftMs: number; coldTtftMs: number }[];
  /** TTFT of the last turn over the first, with reuse and without. */
  reuseRatio: number;
  coldRatio: number;
  /** Turns whose text and prompt_tokens were the same with and without reuse, of rounds x TURNS. */
  identicalTurns: number;
  /** The others, as "round R turn T": llama.cpp's logits are not bit-identical across batch splits. */
  differing: string[];
  /** The first round's last turn with reuse, as sent, and what the server reported for it (the floor's input). */
  lastTurn: { messages: ChatMessage[]; promptTokens: number; cachedTokens: number };
}

type Message = { role: 'user' | 'assistant'; content: string };

function question(round: number, turn: number): string {
  return turn === 1
    ? `Story ${round}: tell me a story about a little cat named Tom who went to the park with his friend the dog.`
    : `Turn ${turn}: and then what did Tom and the dog do in the big green park after that?`;
}

async function chatTurn(target: ServerTarget, messages: Message[]): Promise<TurnSample> {
  const started = performance.now();
  const response = await fetch(`${target.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: target.model,
      messages,
      stream: true,
      max_tokens: REPLY_TOKENS,
      temperature: 0,
      seed: BENCH_SEED,
    }),
  });
  if (!response.ok || !response.body) throw new Error(`server answered ${response.status}: ${await response.text()}`);
  let ttftMs = Number.NaN;
  let text = '';
  let usage: { prompt_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } | undefined;
  for await (const data of sseData(response.body)) {
    if (data === '[DONE]') continue;
    const chunk = JSON.parse(data) as {
      choices?: { delta?: { content?: string } }[];
      usage?: typeof usage;
      error?: { message?: string };
    };
    if (chunk.error) throw new Error(`error event: ${chunk.error.message ?? data}`);
    const content = chunk.choices?.[0]?.delta?.content;
    if (content) {
      if (Number.isNaN(ttftMs)) ttftMs = performance.now() - started;
      text += content;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  return {
    ttftMs,
    text,
    promptTokens: usage?.prompt_tokens ?? Number.NaN,
    cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

interface Conversation {
  samples: TurnSample[];
  /** The last turn's request messages. */
  lastMessages: Message[];
}

async function conversation(target: ServerTarget, round: number): Promise<Conversation> {
  const messages: Message[] = [];
  const samples: TurnSample[] = [];
  let lastMessages: Message[] = [];
  for (let turn = 1; turn <= TURNS; turn++) {
    messages.push({ role: 'user', content: question(round, turn) });
    lastMessages = [...messages];
    const sample = await chatTurn(target, lastMessages);
    samples.push(sample);
    messages.push({ role: 'assistant', content: sample.text });
  }
  return { samples, lastMessages };
}

export async function measureMultiTurn(
  reuse: ServerTarget,
  cold: ServerTarget,
  rounds: number,
  progress: (text: string) => void,
): Promise<MultiTurnFigures> {
  const warmRuns: TurnSample[][] = [];
  const coldRuns: TurnSample[][] = [];
  let lastTurn: MultiTurnFigures['lastTurn'] | null = null;
  for (let round = 1; round <= rounds; round++) {
    progress(`multi-turn: round ${round}/${rounds} (${TURNS} turns with prefix reuse, then without)`);
    const warm = await conversation(reuse, round);
    warmRuns.push(warm.samples);
    coldRuns.push((await conversation(cold, round)).samples);
    const last = warm.samples.at(-1)!;
    lastTurn ??= {
      messages: warm.lastMessages.map((message): ChatMessage =>
        message.role === 'user'
          ? { role: 'user', content: message.content }
          : { role: 'assistant', content: message.content, toolCalls: [] },
      ),
      promptTokens: last.promptTokens,
      cachedTokens: last.cachedTokens,
    };
  }
  const at = (runs: TurnSample[][], turn: number, pick: (sample: TurnSample) => number) =>
    median(runs.map((run) => pick(run[turn]!)));
  const turns = Array.from({ length: TURNS }, (_, turn) => ({
    promptTokens: at(warmRuns, turn, (sample) => sample.promptTokens),
    cachedTokens: at(warmRuns, turn, (sample) => sample.cachedTokens),
    reuseTtftMs: at(warmRuns, turn, (sample) => sample.ttftMs),
    coldTtftMs: at(coldRuns, turn, (sample) => sample.ttftMs),
  }));
  const differing = warmRuns.flatMap((run, round) =>
    run.flatMap((sample, turn) => {
      const cold = coldRuns[round]![turn]!;
      return sample.text === cold.text && sample.promptTokens === cold.promptTokens
        ? []
        : [`round ${round + 1} turn ${turn + 1}`];
    }),
  );
  return {
    turns,
    reuseRatio: turns.at(-1)!.reuseTtftMs / turns[0]!.reuseTtftMs,
    coldRatio: turns.at(-1)!.coldTtftMs / turns[0]!.coldTtftMs,
    identicalTurns: warmRuns.length * TURNS - differing.length,
    differing,
    lastTurn: lastTurn ?? { messages: [], promptTokens: 0, cachedTokens: 0 },
  };
}

export function printMultiTurn(figures: MultiTurnFigures, rounds: number, floor: MultiTurnFloor | null): void {
  const lines = [
    '',
    `Multi-turn chat (embedded, each turn sends the whole history; medians of ${rounds} rounds, temperature 0, ${REPLY_TOKENS}-token replies)`,
    'turn  prompt_tokens  cached_tokens  TTFT with reuse  TTFT without reuse',
    ...figures.turns.map(
      (turn, index) =>
        `${String(index + 1).padStart(4)}  ${String(turn.promptTokens).padStart(13)}  ${String(turn.cachedTokens).padStart(13)}  ${`${turn.reuseTtftMs.toFixed(1)} ms`.padStart(15)}  ${`${turn.coldTtftMs.toFixed(1)} ms`.padStart(18)}`,
    ),
    `TTFT turn ${TURNS} / turn 1: with reuse ${figures.reuseRatio.toFixed(2)}x (goal <= 1.5x: ${figures.reuseRatio <= 1.5 ? 'met' : 'NOT met'}), without ${figures.coldRatio.toFixed(2)}x`,
    ...(floor ? [floorLine(floor)] : []),
    `outputs and prompt_tokens identical with and without reuse: ${figures.identicalTurns} of ${rounds * TURNS} turns` +
      (figures.differing.length === 0
        ? ''
        : ` (text differs in ${figures.differing.join(', ')}: a held prefix was evaluated in other batches than a cold prompt, and llama.cpp's logits are not bit-identical across batch sizes, so a near-tie at temperature 0 can go the other way)`),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
