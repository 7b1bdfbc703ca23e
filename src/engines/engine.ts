import type { EngineError } from './engine-error.js';
import type { PartQueue } from './part-queue.js';

/** The internal, validated form of a chat request (camelCase; wire names live in validation/). */
export interface ChatRequest {
  /** The public model name the client asked for (echoed in every chunk). */
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  /**
   * `stream_options.include_usage` as the client sent it; absent when it did not say. Absent puts usage
   * on the final chunk (the contract); true or false speaks OpenAI's dialect (a separate chunk, or none).
   */
  includeUsage?: boolean;
  maxTokens: number | null;
  /**
   * A ceiling on completion tokens per choice set by the server, not the client (what a key's budget
   * reserved for a request without max_tokens). Unlike maxTokens it is no error when the context
   * leaves less room: the engine generates at most the smaller of the two.
   */
  serverMaxTokens?: number | null;
  temperature: number | null;
  topP: number | null;
  seed: number | null;
  stop: string[];
  presencePenalty: number | null;
  frequencyPenalty: number | null;
  n: number;
  tools: ToolDefinition[];
  toolChoice: ToolChoice;
  parallelToolCalls: boolean;
  responseFormat: ResponseFormat;
  user: string | null;
  /** Fields the contract does not know, passed to engines that forward (vLLM's `top_k`, ...). */
  extraBody: Record<string, unknown>;
}

export type ChatMessage =
  | { role: 'system' | 'developer'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls: AssistantToolCall[] }
  | { role: 'tool'; content: string; toolCallId: string };

interface AssistantToolCall {
  id: string;
  name: string;
  /** The JSON text of the arguments, as the client sent it. */
  arguments: string;
}

export interface ToolDefinition {
  name: string;
  description: string | null;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown> | null;
}

export type ToolChoice =
  { type: 'none' } | { type: 'auto' } | { type: 'required' } | { type: 'function'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict: boolean };

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** `engine`: the backend reported it; `counted`: Oru-el counted with a tokenizer of its own. */
  source: 'engine' | 'counted';
  /** Prompt tokens the engine did not evaluate again because it still held them (a chat's earlier turns), when it says. */
  cachedTokens?: number;
}

export type StreamPart =
  | { type: 'text-delta'; choice: number; text: string }
  | { type: 'tool-call-start'; choice: number; callIndex: number; callId: string; toolName: string }
  | { type: 'tool-call-delta'; choice: number; callIndex: number; argumentsText: string }
  | { type: 'finish'; choice: number; finishReason: FinishReason }
  /** Once, after every choice finished (or, on an error or abort, with what was produced). */
  | { type: 'usage'; usage: Usage }
  | { type: 'error'; error: EngineError };

export interface EngineCapabilities {
  tools: boolean;
  jsonSchema: boolean;
  /** The largest `n` one request may ask for. */
  maxChoices: number;
  /** Context window in tokens, when known. */
  contextSize: number | null;
}

/**
 * A legacy text completion (POST /completions): raw prompts, no chat template. Choice `i * n + j` is
 * the j-th completion of prompt i, as OpenAI numbers them. `echo` is the route's business (it only
 * prefixes text), so engines never see it.
 */
export interface TextCompletionRequest {
  model: string;
  prompts: string[];
  /** Text that should follow the completion (fill-in-the-middle); null = none. */
  suffix: string | null;
  stream: boolean;
  /**
   * `stream_options.include_usage` as the client sent it; absent when it did not say. Absent puts usage
   * on the final chunk (the contract); true or false speaks OpenAI's dialect (a separate chunk, or none).
   */
  includeUsage?: boolean;
  maxTokens: number | null;
  temperature: number | null;
  topP: number | null;
  seed: number | null;
  stop: string[];
  presencePenalty: number | null;
  frequencyPenalty: number | null;
  /** Completions per prompt. */
  n: number;
  user: string | null;
  extraBody: Record<string, unknown>;
}

/** POST /embeddings: texts or token arrays (never mixed), one vector each. */
export interface EmbeddingRequest {
  model: string;
  input: string[] | number[][];
  /** Requested vector length; null = the model's own. */
  dimensions: number | null;
  user: string | null;
  extraBody: Record<string, unknown>;
}

export interface EmbeddingResult {
  /** One vector per input, in input order. */
  vectors: number[][];
  promptTokens: number;
  source: Usage['source'];
}

/** Which backend family an engine is, for clients (GET /models) and operators (logs, metrics); never for branching. */
export type EngineKind = 'llama-cpp' | 'openai';

/** What an engine is doing now, read when GET /models or /metrics asks (never on the request path). */
export interface EngineSnapshot {
  /** False while an embedded model is still loading (or failed to). */
  loaded: boolean;
  /** Generation slots of an embedded engine; null for engines without any. */
  sequences: { busy: number; total: number; queued: number } | null;
}

export interface Engine {
  /** Stable id for logs and the ledger: "llama-cpp/stories260K", "openai/vllm-a". */
  readonly id: string;
  readonly kind: EngineKind;
  readonly capabilities: EngineCapabilities;
  /**
   * Resolves once the backend accepted the work (a 2xx from upstream, a place in the sequence queue).
   * Failures before that reject with EngineError (the router may fail over); failures after it
   * arrive as an `error` part, after which the parts end.
   * Aborting `signal` stops the work; the parts then end with the usage of what was produced.
   * Every engine hands its parts over in the one PartQueue (bounded, batches, merging rules).
   */
  startChat(request: ChatRequest, signal: AbortSignal): Promise<PartQueue>;
  /** The same contract as startChat, for raw-prompt completions. Absent: the engine cannot (a clear 400). */
  startTextCompletion?(request: TextCompletionRequest, signal: AbortSignal): Promise<PartQueue>;
  /** Embeds every input; rejects with EngineError (invalid_request when the model is not set up for it). */
  embed?(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult>;
  /** Resolves when the engine can serve (model loaded). */
  ready(): Promise<void>;
  snapshot(): EngineSnapshot;
  close(): Promise<void>;
}

/** Exhaustiveness check for switches over unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
