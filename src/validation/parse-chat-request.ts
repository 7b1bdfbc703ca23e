import type { z } from 'zod';
import type { ChatMessage, ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../engines/index.js';
import { echoName, GatewayError } from '../errors/index.js';
import { chatRequestSchema, textPart, type WireChatRequest } from './chat-request-schema.js';
import { formatPath } from './param-path.js';
import { checkRequestBounds } from './request-bounds.js';

/** Fields of the wire request that ChatRequest models; everything else is carried in `extraBody`. */
const KNOWN_FIELDS = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'user',
]);

/** Wire JSON -> ChatRequest, or a 400 whose `param` names the first field at fault. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  }
  checkRequestBounds(body as Record<string, unknown>);
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) throw toValidationError(parsed.error);
  return toChatRequest(parsed.data);
}

function toChatRequest(wire: WireChatRequest): ChatRequest {
  const tools = (wire.tools ?? []).map(toToolDefinition);
  const toolChoice = toToolChoice(wire, tools);
  const extraBody: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wire)) if (!KNOWN_FIELDS.has(key)) extraBody[key] = value;
  return {
    model: wire.model,
    messages: wire.messages.map(toMessage),
    stream: wire.stream ?? false,
    ...(typeof wire.stream_options?.include_usage === 'boolean'
      ? { includeUsage: wire.stream_options.include_usage }
      : {}),
    maxTokens: wire.max_completion_tokens ?? wire.max_tokens ?? null,
    temperature: wire.temperature ?? null,
    topP: wire.top_p ?? null,
    seed: wire.seed ?? null,
    stop: typeof wire.stop === 'string' ? [wire.stop] : (wire.stop ?? []).filter((text) => text !== ''),
    presencePenalty: wire.presence_penalty ?? null,
    frequencyPenalty: wire.frequency_penalty ?? null,
    n: wire.n ?? 1,
    tools,
    toolChoice,
    parallelToolCalls: wire.parallel_tool_calls ?? true,
    responseFormat: toResponseFormat(wire.response_format),
    user: wire.user ?? null,
    extraBody,
  };
}

type WireMessage = WireChatRequest['messages'][number];

function toMessage(message: WireMessage, index: number): ChatMessage {
  const param = `messages[${index}].content`;
  switch (message.role) {
    case 'system':
    case 'developer':
    case 'user':
      return { role: message.role, content: flattenContent(message.content, param) };
    case 'assistant': {
      const toolCalls = (message.tool_calls ?? []).map((call) => ({
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      }));
      const text = message.content == null ? null : flattenContent(message.content, param);
      if (text === null && toolCalls.length === 0) {
        throw new GatewayError('invalid_request', 'An assistant message needs content or tool_calls.', { param });
      }
      return { role: 'assistant', content: text, toolCalls };
    }
    case 'tool':
      return { role: 'tool', content: flattenContent(message.content, param), toolCallId: message.tool_call_id };
  }
}

/** Content arrays are joined text parts; other part types (images, audio) are refused by name. */
function flattenContent(content: string | { type: string }[], param: string): string {
  if (typeof content === 'string') return content;
  return content
    .map((part, index) => {
      const text = textPart.safeParse(part);
      if (!text.success) {
        throw new GatewayError(
          'invalid_request',
          `Content part type "${echoName(part.type)}" is not supported; only "text" parts are.`,
          {
            param: `${param}[${index}]${part.type === 'text' ? '.text' : '.type'}`,
          },
        );
      }
      return text.data.text;
    })
    .join('');
}

function toToolDefinition(tool: NonNullable<WireChatRequest['tools']>[number]): ToolDefinition {
  return {
    name: tool.function.name,
    description: tool.function.description ?? null,
    parameters: tool.function.parameters ?? null,
  };
}

function toToolChoice(wire: WireChatRequest, tools: ToolDefinition[]): ToolChoice {
  const choice = wire.tool_choice;
  if (choice == null) return { type: tools.length > 0 ? 'auto' : 'none' };
  if (typeof choice === 'string') {
    if (choice !== 'none' && tools.length === 0) {
      throw new GatewayError('invalid_request', `tool_choice "${choice}" needs at least one tool in "tools".`, {
        param: 'tool_choice',
      });
    }
    return { type: choice };
  }
  if (!tools.some((tool) => tool.name === choice.function.name)) {
    throw new GatewayError(
      'invalid_request',
      `tool_choice names function "${echoName(choice.function.name)}", which is not in "tools".`,
      { param: 'tool_choice' },
    );
  }
  return { type: 'function', name: choice.function.name };
}

function toResponseFormat(format: WireChatRequest['response_format']): ResponseFormat {
  if (!format || format.type === 'text') return { type: 'text' };
  if (format.type === 'json_object') return { type: 'json_object' };
  const { name, schema, strict } = format.json_schema;
  return { type: 'json_schema', name, schema: schema ?? {}, strict: strict ?? false };
}

export function toValidationError(error: z.ZodError): GatewayError {
  const issue = error.issues[0];
  if (!issue) return new GatewayError('invalid_request', 'Invalid request body.');
  const param = formatPath(issue.path);
  const message =
    issue.code === 'invalid_union' && issue.path.at(-1) === 'role'
      ? `Invalid value for ${param}: expected one of system, developer, user, assistant, tool.`
      : `Invalid ${param ? `'${param}'` : 'request body'}: ${issue.message}`;
  return new GatewayError('invalid_request', message, { param: param || null });
}
