import { byId } from '../common/dom.js';
import type { ChatMessage, ChatRequestBody } from './chat-types.js';

/** The settings panel, read into a request body; a field the user got wrong throws a readable message. */
export function buildRequestBody(messages: ChatMessage[]): ChatRequestBody {
  const model = byId<HTMLSelectElement>('model').value;
  if (!model) throw new Error('Choose a model first (enter an API key to load the list).');
  const system = byId<HTMLTextAreaElement>('system').value.trim();
  const body: ChatRequestBody = {
    model,
    messages: system ? [{ role: 'system', content: system }, ...messages] : [...messages],
    stream: true,
    stream_options: { include_usage: true },
  };
  const temperature = numberField('temperature');
  if (temperature !== null) body['temperature'] = temperature;
  const maxTokens = numberField('max-tokens');
  if (maxTokens !== null) body['max_tokens'] = Math.round(maxTokens);
  const tools = parsedTools();
  if (tools) {
    body['tools'] = tools;
    const choice = byId<HTMLSelectElement>('tool-choice').value;
    body['tool_choice'] = ['auto', 'required', 'none'].includes(choice)
      ? choice
      : { type: 'function', function: { name: choice } };
  }
  if (byId<HTMLSelectElement>('response-format').value === 'json_schema') body['response_format'] = jsonSchemaFormat();
  return body;
}

function numberField(id: string): number | null {
  const text = byId<HTMLInputElement>(id).value.trim();
  if (text === '') return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${id} must be a number.`);
  return value;
}

/** The tools textarea: empty means no tools; otherwise a JSON array of OpenAI tool definitions. */
function parsedTools(): unknown[] | null {
  const text = byId<HTMLTextAreaElement>('tools').value.trim();
  if (text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`Tools are not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(value)) throw new Error('Tools must be a JSON array of {"type":"function","function":{...}}.');
  return value;
}

/** Tool names in the tools textarea, for the tool_choice picker; unreadable JSON gives none. */
export function toolNames(): string[] {
  try {
    return (parsedTools() ?? [])
      .map((tool) => (tool as { function?: { name?: unknown } }).function?.name)
      .filter((name): name is string => typeof name === 'string');
  } catch {
    return [];
  }
}

function jsonSchemaFormat(): Record<string, unknown> {
  const text = byId<HTMLTextAreaElement>('json-schema').value.trim();
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw new Error(`The JSON schema is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema } };
}
