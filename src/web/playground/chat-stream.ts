import { ApiError, errorFromResponse } from '../common/api-error.js';
import { sseData } from '../common/sse.js';
import type { ChatChunk, ChatRequestBody, ChunkToolCallDelta, ToolCall, Usage } from './chat-types.js';

/** What the page draws as the answer arrives; each call is one SSE event's piece. */
export interface StreamListener {
  onContent(text: string): void;
  onToolCallStart(index: number, call: ToolCall): void;
  onToolCallArguments(index: number, fragment: string): void;
}

export interface StreamResult {
  content: string;
  toolCalls: ToolCall[];
  finishReason: string | null;
  usage: Usage | null;
  /** Milliseconds from sending to the first content or tool-call fragment. */
  ttftMs: number | null;
  /** Milliseconds from the first fragment to the end of the stream. */
  generationMs: number | null;
  error: ApiError | null;
  stopped: boolean;
  requestId: string | null;
}

/**
 * POSTs a streamed chat completion and reads it as the product's browser example does (fetch + SSE
 * reader), handing every delta to the listener as its event arrives. A 4xx/5xx, a mid-stream error
 * event and the caller's abort all end in the result, never in an exception.
 */
export async function streamChat(
  baseURL: string,
  apiKey: string,
  body: ChatRequestBody,
  signal: AbortSignal,
  listener: StreamListener,
): Promise<StreamResult> {
  const started = performance.now();
  let firstFragmentAt: number | null = null;
  const result: StreamResult = {
    content: '',
    toolCalls: [],
    finishReason: null,
    usage: null,
    ttftMs: null,
    generationMs: null,
    error: null,
    stopped: false,
    requestId: null,
  };
  const markFirst = () => {
    if (firstFragmentAt === null) {
      firstFragmentAt = performance.now();
      result.ttftMs = firstFragmentAt - started;
    }
  };
  try {
    const response = await fetch(`${baseURL}/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    result.requestId = response.headers.get('x-request-id');
    if (!response.ok || !response.body) {
      result.error = await errorFromResponse(response);
      return result;
    }
    for await (const data of sseData(response.body)) {
      const chunk = JSON.parse(data) as ChatChunk;
      if (chunk.error) {
        result.error = new ApiError(null, chunk.error);
        result.finishReason = 'error';
        break;
      }
      if (chunk.usage) result.usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const content = choice.delta?.content;
      if (content) {
        markFirst();
        result.content += content;
        listener.onContent(content);
      }
      for (const delta of choice.delta?.tool_calls ?? []) {
        markFirst();
        applyToolCallDelta(result.toolCalls, delta, listener);
      }
      if (choice.finish_reason) result.finishReason = choice.finish_reason;
    }
  } catch (error) {
    if (signal.aborted) result.stopped = true;
    else result.error = new ApiError(null, { message: error instanceof Error ? error.message : String(error) });
  } finally {
    if (firstFragmentAt !== null) result.generationMs = performance.now() - firstFragmentAt;
  }
  return result;
}

function applyToolCallDelta(calls: ToolCall[], delta: ChunkToolCallDelta, listener: StreamListener): void {
  let call = calls[delta.index];
  if (!call) {
    call = {
      id: delta.id ?? `call_${delta.index}`,
      type: 'function',
      function: { name: delta.function?.name ?? '', arguments: '' },
    };
    calls[delta.index] = call;
    listener.onToolCallStart(delta.index, call);
  }
  const fragment = delta.function?.arguments;
  if (fragment) {
    call.function.arguments += fragment;
    listener.onToolCallArguments(delta.index, fragment);
  }
}
