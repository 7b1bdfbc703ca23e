import type {
  ChatHistoryItem,
  LLamaChatGenerateResponseOptions,
  LlamaChat,
  LlamaChatResponseFunctionCallParamsChunk,
  LlamaGrammar,
} from 'node-llama-cpp';
import type { ChatRequest, FinishReason, StreamPart } from '../engine.js';
import { EngineError } from '../engine-error.js';
import { newToolCallId } from '../../ids/index.js';
import { toFinishReason } from './finish-reason.js';
import { ForcedCallScanner } from './forced-call-scanner.js';
import type { GenerationPlan } from './generation-plan.js';
import { samplingFor } from './sampling.js';

export interface ChoiceWork {
  request: ChatRequest;
  history: ChatHistoryItem[];
  plan: GenerationPlan;
  maxTokens: number;
}

type Emit = (part: StreamPart) => void;
type ResponseOptions = LLamaChatGenerateResponseOptions<undefined>;
/** Sampling, limits and cancellation: what every way of generating shares. */
type BaseOptions = Pick<
  ResponseOptions,
  | 'temperature'
  | 'topP'
  | 'seed'
  | 'repeatPenalty'
  | 'maxTokens'
  | 'customStopTriggers'
  | 'signal'
  | 'stopOnAbortSignal'
>;

/**
 * Generates one choice and emits its parts as tokens arrive. Returns the finish reason, or throws
 * EngineError when the output breaks the request's schema (after what was generated went out).
 */
export async function generateChoice(
  chat: LlamaChat,
  choice: number,
  work: ChoiceWork,
  signal: AbortSignal,
  emit: Emit,
): Promise<FinishReason> {
  const base: BaseOptions = {
    ...samplingFor(work.request, choice),
    maxTokens: work.maxTokens,
    customStopTriggers: work.request.stop,
    signal,
    stopOnAbortSignal: true,
  };
  const output = work.plan.output;
  switch (output.kind) {
    case 'text':
      return generateText(
        chat,
        choice,
        work,
        output.grammar ? { ...base, grammar: output.grammar } : base,
        output.check,
        emit,
      );
    case 'auto-tools':
      return generateWithModelToolSyntax(chat, choice, work, base, output.maxParallelCalls, emit);
    case 'forced-tools':
      // `stop` applies to text; cutting grammar-forced calls short would only break their JSON.
      return generateForcedCalls(
        chat,
        choice,
        work,
        { ...base, customStopTriggers: [] },
        output.grammar,
        output.callDepth,
        emit,
      );
  }
}

async function generateText(
  chat: LlamaChat,
  choice: number,
  work: ChoiceWork,
  options: BaseOptions & { grammar?: LlamaGrammar },
  check: ((text: string) => string | null) | null,
  emit: Emit,
): Promise<FinishReason> {
  let text = '';
  const result = await chat.generateResponse(work.history, {
    ...options,
    onTextChunk: (chunk) => {
      if (chunk === '') return;
      if (check) text += chunk;
      emit({ type: 'text-delta', choice, text: chunk });
    },
  });
  const finishReason = toFinishReason(result.metadata.stopReason);
  // A cut-short output cannot be complete JSON: finish_reason "length" already says so.
  if (check && finishReason !== 'length' && !options.signal?.aborted) failOnInvalid(check(text), 'a response');
  return finishReason;
}

/** `auto`: the model decides, in its own tool-call syntax, which node-llama-cpp parses. */
async function generateWithModelToolSyntax(
  chat: LlamaChat,
  choice: number,
  work: ChoiceWork,
  options: BaseOptions,
  maxParallelCalls: number,
  emit: Emit,
): Promise<FinishReason> {
  const started = new Set<number>();
  const onParams = (chunk: LlamaChatResponseFunctionCallParamsChunk) => {
    if (!started.has(chunk.callIndex)) {
      started.add(chunk.callIndex);
      emit({
        type: 'tool-call-start',
        choice,
        callIndex: chunk.callIndex,
        callId: newToolCallId(),
        toolName: chunk.functionName,
      });
    }
    if (chunk.paramsChunk !== '')
      emit({ type: 'tool-call-delta', choice, callIndex: chunk.callIndex, argumentsText: chunk.paramsChunk });
  };
  const result = await chat.generateResponse(work.history, {
    ...options,
    functions: work.plan.functions ?? {},
    documentFunctionParams: true,
    maxParallelFunctionCalls: maxParallelCalls,
    onTextChunk: (text: string) => {
      if (text !== '') emit({ type: 'text-delta', choice, text });
    },
    onFunctionCallParamsChunk: onParams,
  });
  const finishReason = toFinishReason(result.metadata.stopReason);
  if (finishReason === 'tool_calls') {
    for (const call of result.functionCalls ?? [])
      failOnInvalid(work.plan.checkArguments(call.functionName, call.params), `arguments of ${call.functionName}`);
  }
  return finishReason;
}

/** `required` or a named function: a grammar makes the whole output calls; their text is read as it comes. */
async function generateForcedCalls(
  chat: LlamaChat,
  choice: number,
  work: ChoiceWork,
  options: BaseOptions,
  grammar: LlamaGrammar,
  callDepth: 1 | 2,
  emit: Emit,
): Promise<FinishReason> {
  let text = '';
  const scanner = new ForcedCallScanner(callDepth, {
    onCallStart: (callIndex, name) =>
      emit({ type: 'tool-call-start', choice, callIndex, callId: newToolCallId(), toolName: name }),
    onArguments: (callIndex, argumentsText) => emit({ type: 'tool-call-delta', choice, callIndex, argumentsText }),
  });
  // node-llama-cpp takes a grammar together with functions only with abortOnNonText; its types allow one or the other.
  const forcedOptions = {
    ...options,
    grammar,
    // Tools are still rendered into the prompt; the grammar, not the model's call syntax, shapes the output.
    ...(work.plan.functions
      ? { functions: work.plan.functions, documentFunctionParams: true, abortOnNonText: true }
      : {}),
    onTextChunk: (chunk: string) => {
      text += chunk;
      scanner.push(chunk);
    },
  } as ResponseOptions;
  const result = await chat.generateResponse(work.history, forcedOptions);
  const stopReason = toFinishReason(result.metadata.stopReason);
  if (stopReason === 'length' || options.signal?.aborted) return stopReason;
  for (const call of parseForcedCalls(text))
    failOnInvalid(work.plan.checkArguments(call.name, call.arguments), `arguments of ${call.name}`);
  return 'tool_calls';
}

type ForcedCall = { name: string; arguments: unknown };

function parseForcedCalls(text: string): ForcedCall[] {
  let parsed: ForcedCall | ForcedCall[];
  try {
    parsed = JSON.parse(text) as ForcedCall | ForcedCall[];
  } catch (error) {
    throw new EngineError(
      'invalid_output',
      `The model produced tool calls that are not valid JSON: ${(error as Error).message}.`,
    );
  }
  return Array.isArray(parsed) ? parsed : [parsed];
}

function failOnInvalid(problem: string | null, what: string): void {
  if (problem === null) return;
  throw new EngineError(
    'invalid_output',
    `The model produced ${what} that do not match the requested schema: ${problem}.`,
  );
}
