import type { FinishReason } from '../engine.js';

/** An upstream finish_reason read: not finished yet, finished, or a generation the upstream gave up on. */
export type UpstreamFinish =
  { kind: 'running' } | { kind: 'finished'; reason: FinishReason } | { kind: 'aborted'; reason: string };

const RUNNING: UpstreamFinish = { kind: 'running' };

/**
 * Maps the vocabularies engines use onto the contract's four reasons.
 * - `stop` on a choice that made tool calls is `tool_calls`: older Ollama says `stop` for them, and
 *   OpenAI itself says `stop` when tool_choice forced a function; the contract promises `tool_calls`.
 * - `function_call` is OpenAI's legacy name; `eos`, `end_turn`, `stop_sequence` are other engines' `stop`;
 *   `max_tokens` is `length`.
 * - `abort` (vLLM, SGLang) and `error` mean the upstream dropped the request: not a completion.
 * - Anything else unknown is a stop: the upstream did say it finished.
 */
export function readFinishReason(value: unknown, madeToolCalls: boolean): UpstreamFinish {
  if (value === null || value === undefined || value === '') return RUNNING;
  if (value === 'abort' || value === 'error') return { kind: 'aborted', reason: value };
  switch (value) {
    case 'length':
    case 'max_tokens':
      return { kind: 'finished', reason: 'length' };
    case 'tool_calls':
    case 'function_call':
      return { kind: 'finished', reason: 'tool_calls' };
    case 'content_filter':
      return { kind: 'finished', reason: 'content_filter' };
    default:
      return { kind: 'finished', reason: madeToolCalls ? 'tool_calls' : 'stop' };
  }
}
