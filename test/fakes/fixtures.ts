import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { USAGE_BEHAVIOUR, type Dialect } from './dialects.js';

export type Scenario = 'text' | 'tools';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cache = new Map<string, string>();

function read(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(`${FIXTURES}${name}`, 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** The recorded stream as its events, each with its terminating blank line. */
export function streamEvents(dialect: Dialect, scenario: Scenario, includeUsage: boolean): string[] {
  const events = read(`${dialect}/${scenario}.sse`)
    .split('\n\n')
    .filter((event) => event.trim() !== '')
    .map((event) => `${event}\n\n`);
  if (includeUsage || USAGE_BEHAVIOUR[dialect] !== 'when-asked') return events;
  return events.flatMap((event) => withoutUsage(event));
}

/** The recorded non-streamed completion body. */
export function completionBody(dialect: Dialect, scenario: Scenario): string {
  return read(`${dialect}/${scenario}.json`);
}

/** What OpenAI, vLLM and Ollama send when usage was not asked for: no usage chunk, no usage field. */
function withoutUsage(event: string): string[] {
  const data = event.startsWith('data: ') ? event.slice(6).trim() : null;
  if (data === null || data === '[DONE]') return [event];
  const chunk = JSON.parse(data) as { choices?: unknown[]; usage?: unknown };
  if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return [];
  delete chunk.usage;
  return [`data: ${JSON.stringify(chunk)}\n\n`];
}
