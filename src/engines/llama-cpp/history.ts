import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from 'node-llama-cpp';
import type { ChatMessage } from '../engine.js';
import { echoName } from '../../errors/index.js';
import { EngineError } from '../engine-error.js';

/**
 * Maps OpenAI-style messages onto node-llama-cpp's chat history, which the model's own chat template
 * then renders. Tool results join the assistant turn that called them (that is how node-llama-cpp
 * templates render calls and results), and the history ends with the model turn to complete.
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const callsById = new Map<string, ChatModelFunctionCall>();
  messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        history.push({ type: 'system', text: message.content });
        return;
      case 'user':
        history.push({ type: 'user', text: message.content });
        return;
      case 'assistant':
        history.push(assistantTurn(message.content, message.toolCalls, callsById, index));
        return;
      case 'tool':
        attachToolResult(message.toolCallId, message.content, callsById, index);
        return;
    }
  });
  // After tool results the model continues the same turn (as node-llama-cpp's own sessions do);
  // otherwise it starts a new one.
  if (messages.at(-1)?.role !== 'tool') history.push({ type: 'model', response: [] });
  return history;
}

function assistantTurn(
  content: string | null,
  toolCalls: readonly { id: string; name: string; arguments: string }[],
  callsById: Map<string, ChatModelFunctionCall>,
  messageIndex: number,
): ChatModelResponse {
  const response: ChatModelResponse['response'] = [];
  if (content) response.push(content);
  toolCalls.forEach((call, callIndex) => {
    const functionCall: ChatModelFunctionCall = {
      type: 'functionCall',
      name: call.name,
      params: parseArguments(call.arguments, `messages[${messageIndex}].tool_calls[${callIndex}].function.arguments`),
      result: undefined,
      startsNewChunk: callIndex === 0,
    };
    callsById.set(call.id, functionCall);
    response.push(functionCall);
  });
  return { type: 'model', response };
}

function attachToolResult(
  toolCallId: string,
  content: string,
  callsById: Map<string, ChatModelFunctionCall>,
  messageIndex: number,
): void {
  const call = callsById.get(toolCallId);
  if (!call) {
    throw new EngineError(
      'invalid_request',
      `No assistant tool call has the id "${echoName(toolCallId)}" that this tool message answers.`,
      {
        param: `messages[${messageIndex}].tool_call_id`,
      },
    );
  }
  call.result = parseResult(content);
}

/** The chat template serializes arguments and results again (recursively): deeper values are refused or kept as text. */
const MAX_RENDERED_DEPTH = 64;

function parseArguments(text: string, param: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text === '' ? '{}' : text);
  } catch {
    throw new EngineError('invalid_request', 'Tool call arguments must be a JSON string.', { param });
  }
  if (depthOf(value) > MAX_RENDERED_DEPTH) {
    throw new EngineError('invalid_request', `Tool call arguments may nest at most ${MAX_RENDERED_DEPTH} levels.`, {
      param,
    });
  }
  return value;
}

/** Tool results are free text; structured results are rendered as JSON by the template. */
function parseResult(content: string): unknown {
  try {
    const value: unknown = JSON.parse(content);
    return depthOf(value) > MAX_RENDERED_DEPTH ? content : value;
  } catch {
    return content;
  }
}

/** Nesting depth, walked without recursion and given up past the limit. */
function depthOf(value: unknown): number {
  const stack: [unknown, number][] = [[value, 0]];
  let deepest = 0;
  while (stack.length > 0 && deepest <= MAX_RENDERED_DEPTH) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}
