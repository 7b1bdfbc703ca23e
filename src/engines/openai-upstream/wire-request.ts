import { assertNever, type ChatMessage, type ChatRequest, type ResponseFormat, type ToolChoice } from '../engine.js';

export interface WireRequestOptions {
  upstreamModel: string;
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

/**
 * ChatRequest -> the upstream's JSON body, in OpenAI's wire names. Vendor fields the contract does
 * not know (`extraBody`: top_k, repetition_penalty, chat_template_kwargs, ...) go through untouched;
 * fields at their defaults are left out, because some engines refuse what they do not support even
 * when it asks for nothing (llama-server and `n`, Ollama and `parallel_tool_calls`).
 * `stream_options` is sent only on streams: vLLM and others reject it on non-streaming requests.
 */
export function toWireBody(request: ChatRequest, options: WireRequestOptions): string {
  const body: Record<string, unknown> = {
    ...request.extraBody,
    model: options.upstreamModel,
    messages: request.messages.map(toWireMessage),
    stream: request.stream,
  };
  if (request.stream) body.stream_options = { include_usage: true };
  const maxTokens = request.maxTokens ?? request.serverMaxTokens ?? null;
  if (maxTokens !== null) body[options.maxTokensField] = maxTokens;
  if (request.temperature !== null) body.temperature = request.temperature;
  if (request.topP !== null) body.top_p = request.topP;
  if (request.seed !== null) body.seed = request.seed;
  if (request.stop.length > 0) body.stop = request.stop;
  if (request.presencePenalty !== null) body.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== null) body.frequency_penalty = request.frequencyPenalty;
  if (request.n !== 1) body.n = request.n;
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== null ? { description: tool.description } : {}),
        ...(tool.parameters ? { parameters: tool.parameters } : {}),
      },
    }));
    body.tool_choice = toWireToolChoice(request.toolChoice);
    if (!request.parallelToolCalls) body.parallel_tool_calls = false;
  }
  const responseFormat = toWireResponseFormat(request.responseFormat);
  if (responseFormat) body.response_format = responseFormat;
  if (request.user !== null) body.user = request.user;
  return JSON.stringify(body);
}

/** `developer` is sent as `system`: OpenAI treats them alike, and other engines' chat templates only know `system`. */
function toWireMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant':
      if (message.toolCalls.length === 0) return { role: 'assistant', content: message.content ?? '' };
      return {
        role: 'assistant',
        content: message.content,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    case 'tool':
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId };
    default:
      return assertNever(message);
  }
}

function toWireToolChoice(choice: ToolChoice): unknown {
  switch (choice.type) {
    case 'none':
    case 'auto':
    case 'required':
      return choice.type;
    case 'function':
      return { type: 'function', function: { name: choice.name } };
    default:
      return assertNever(choice);
  }
}

function toWireResponseFormat(format: ResponseFormat): unknown {
  switch (format.type) {
    case 'text':
      return null;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema':
      return { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, strict: format.strict } };
    default:
      return assertNever(format);
  }
}
