import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import type OpenAI from 'openai';
import { openApiValidator } from '../helpers/openapi.js';
import { STORIES_MODEL, STORIES_TOOLS_MODEL, TINY_RANDOM_MODEL } from '../helpers/paths.js';

/**
 * Shared pieces of the tool-calling and structured-output tests (issue #3): the fixture models, the
 * seed's weather tool, a strict JSON-schema checker, and a reader of streamed tool-call fragments that
 * names every way a stream can break CONTRACT.md's tool-call rules.
 */

export type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;
export type Tool = OpenAI.Chat.Completions.ChatCompletionFunctionTool;
export type Completion = OpenAI.Chat.Completions.ChatCompletion;
export type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** Same weights as stories260K with a ChatML template that has a tools section and `<tool_call>` syntax. */
export const toolsModel = {
  name: 'stories-tools',
  engine: 'llama-cpp' as const,
  path: STORIES_TOOLS_MODEL,
  sequences: 2,
  contextSize: 2048,
};
/** No chat template with tools (node-llama-cpp falls back to Llama2Chat): tools must be refused. */
export const plainModel = {
  name: 'stories260K',
  engine: 'llama-cpp' as const,
  path: STORIES_MODEL,
  sequences: 1,
  contextSize: 512,
};
/** Random weights, 32k vocabulary, no template: the one that writes integers with wild exponents. */
export const randomModel = {
  name: 'tiny-random',
  engine: 'llama-cpp' as const,
  path: TINY_RANDOM_MODEL,
  sequences: 1,
  contextSize: 512,
};

/** The seed's streamed tool example, verbatim ("Streaming with tool calls"). */
export const weatherTool: Tool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get current weather for a location',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string' } },
      required: ['location'],
    },
  },
};

export const timeTool: Tool = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'Get the local time in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, utc: { type: 'boolean' } },
      required: ['city', 'utc'],
    },
  },
};

/** A tool whose schema has what a grammar handles (enum, integer, nested object, array). */
export const bookingTool: Tool = {
  type: 'function',
  function: {
    name: 'book_table',
    description: 'Book a table at a restaurant',
    parameters: {
      type: 'object',
      properties: {
        guests: { type: 'integer' },
        seating: { type: 'string', enum: ['inside', 'outside', 'bar'] },
        contact: {
          type: 'object',
          properties: { name: { type: 'string', maxLength: 20 }, vip: { type: 'boolean' } },
          required: ['name', 'vip'],
        },
        notes: { type: 'array', items: { type: 'string', maxLength: 10 }, maxItems: 3 },
      },
      required: ['guests', 'seating', 'contact', 'notes'],
    },
  },
};

export const WEATHER_QUESTION: Message[] = [{ role: 'user', content: "What's the weather in Tokyo?" }];

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as FormatsPlugin;

/**
 * The tests' own judge of "valid against the schema". ajv with `strictNumbers` on: JSON text such as
 * `6e62009587677033` parses to Infinity, which no JSON encoder can write back and no client can use as
 * an integer; ajv with `strict: false` alone calls Infinity an integer (`!(x % 1)` is true for it).
 */
const ajv = new Ajv({ strictSchema: false, strictNumbers: true, allErrors: true });
addFormats(ajv);

export type Check = (value: unknown) => string | null;

export function schemaCheck(schema: Record<string, unknown>): Check {
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? null : describeErrors(validate.errors ?? []));
}

function describeErrors(errors: ErrorObject[]): string {
  return errors.map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`).join('; ');
}

/** Parses `text` as JSON and checks it: null when it is valid, else what is wrong. */
export function checkJsonText(text: string, check: Check): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message}): ${text}`;
  }
  const nonFinite = findNonFinite(value, '');
  if (nonFinite !== null) return `${nonFinite} is not a finite number (JSON text ${text})`;
  const problem = check(value);
  return problem === null ? null : `${problem} (JSON text ${text})`;
}

function findNonFinite(value: unknown, at: string): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : at || '/';
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, item] of Object.entries(value)) {
    const found = findNonFinite(item, `${at}/${key}`);
    if (found !== null) return found;
  }
  return null;
}

/** Reads an SDK stream to the end. */
export async function collect(stream: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

interface StreamedCall {
  index: number;
  id: string | undefined;
  name: string | undefined;
  arguments: string;
  /** Non-empty `function.arguments` fragments after the first fragment. */
  argumentFragments: string[];
}

export interface ToolStreamReading {
  calls: StreamedCall[];
  /** Concatenated `delta.content` (the opening `""` included). */
  content: string;
  /** True when some chunk after the first carries a non-empty content string. */
  hasText: boolean;
  finishReason: string | null;
  usage: Chunk['usage'] | undefined;
  /** Every breach of CONTRACT.md's tool-call streaming rules, in words. */
  problems: string[];
}

/**
 * Reassembles tool calls from chunks the way OpenAI's SDKs do (by `index`), checking on the way: every
 * fragment has `function`; the first fragment of a call has index, id (`call_...`), type "function",
 * function.name and arguments ""; later fragments have index and function.arguments only; ids are
 * distinct; only choice 0 exists; finish_reason is set once, on the last chunk, which carries usage.
 */
export function readToolStream(chunks: Chunk[]): ToolStreamReading {
  const problems: string[] = [];
  const calls = new Map<number, StreamedCall>();
  let content = '';
  let hasText = false;
  let finishReason: string | null = null;
  chunks.forEach((chunk, position) => {
    if (chunk.choices.length !== 1) problems.push(`chunk ${position} has ${chunk.choices.length} choices`);
    const choice = chunk.choices[0];
    if (!choice) return;
    if (choice.index !== 0) problems.push(`chunk ${position} has choice index ${choice.index}`);
    if (choice.finish_reason !== null) {
      if (finishReason !== null) problems.push(`finish_reason set twice (chunk ${position})`);
      finishReason = choice.finish_reason;
      if (position !== chunks.length - 1) problems.push(`finish_reason on chunk ${position}, not the last`);
    }
    const delta = choice.delta;
    if (typeof delta.content === 'string') {
      content += delta.content;
      if (position > 0 && delta.content !== '') hasText = true;
    }
    for (const fragment of delta.tool_calls ?? []) readFragment(fragment, position, calls, problems);
  });
  const ids = [...calls.values()].map((call) => call.id);
  if (new Set(ids).size !== ids.length) problems.push(`tool call ids repeat: ${ids.join(', ')}`);
  const indexes = [...calls.keys()].sort((a, b) => a - b);
  if (indexes.some((index, position) => index !== position))
    problems.push(`call indexes are not 0..n-1: ${indexes.join(', ')}`);
  const last = chunks.at(-1);
  if (last && !last.usage) problems.push('the last chunk carries no usage');
  return {
    calls: indexes.map((index) => calls.get(index) as StreamedCall),
    content,
    hasText,
    finishReason,
    usage: last?.usage,
    problems,
  };
}

type Fragment = NonNullable<Chunk['choices'][number]['delta']['tool_calls']>[number];

function readFragment(
  fragment: Fragment,
  position: number,
  calls: Map<number, StreamedCall>,
  problems: string[],
): void {
  const where = `chunk ${position}, call ${fragment.index}`;
  if (!Number.isInteger(fragment.index)) problems.push(`${where}: no integer index`);
  if (typeof fragment.function !== 'object' || fragment.function === null) {
    problems.push(`${where}: fragment without a function object`);
    return;
  }
  const known = calls.get(fragment.index);
  if (!known) {
    if (typeof fragment.id !== 'string' || !/^call_[A-Za-z0-9]{8,}$/.test(fragment.id))
      problems.push(`${where}: first fragment id ${String(fragment.id)} is not call_<random>`);
    if (fragment.type !== 'function') problems.push(`${where}: first fragment type ${String(fragment.type)}`);
    if (typeof fragment.function.name !== 'string' || fragment.function.name === '')
      problems.push(`${where}: first fragment without function.name`);
    if (fragment.function.arguments !== '')
      problems.push(`${where}: first fragment arguments ${JSON.stringify(fragment.function.arguments)}, expected ""`);
    calls.set(fragment.index, {
      index: fragment.index,
      id: fragment.id,
      name: fragment.function.name,
      arguments: fragment.function.arguments ?? '',
      argumentFragments: [],
    });
    return;
  }
  const keys = Object.keys(fragment).sort().join(',');
  if (keys !== 'function,index') problems.push(`${where}: later fragment has keys ${keys}, expected function,index`);
  const functionKeys = Object.keys(fragment.function).join(',');
  if (functionKeys !== 'arguments')
    problems.push(`${where}: later fragment's function has keys ${functionKeys}, expected arguments`);
  if (typeof fragment.function.arguments !== 'string') {
    problems.push(`${where}: later fragment without function.arguments`);
    return;
  }
  known.arguments += fragment.function.arguments;
  if (fragment.function.arguments !== '') known.argumentFragments.push(fragment.function.arguments);
}

/**
 * Every chunk against OpenAI's CreateChatCompletionStreamResponse. The contract's mid-stream error
 * event (finish_reason "error", outside OpenAI's enum) is checked separately by the tests that expect it.
 */
export function assertChunksMatchOpenAi(chunks: unknown[]): void {
  const validator = openApiValidator();
  for (const chunk of chunks) validator.assertValid('CreateChatCompletionStreamResponse', chunk);
}

export function assertCompletionMatchesOpenAi(completion: unknown): void {
  openApiValidator().assertValid('CreateChatCompletionResponse', completion);
}

/** The function calls of a non-streaming message (custom tool calls would be a bug here). */
export function functionCalls(completion: Completion): { id: string; type: string; name: string; arguments: string }[] {
  return (completion.choices[0]?.message.tool_calls ?? []).map((call) => {
    if (call.type !== 'function') throw new Error(`unexpected tool call type ${call.type}`);
    return { id: call.id, type: call.type, name: call.function.name, arguments: call.function.arguments };
  });
}

/** Seeds 1..count, for runs over many samples. */
export function seeds(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index + 1);
}

type Container =
  | { kind: 'object'; expect: 'key-or-end' | 'key' | 'colon' | 'value' | 'comma-or-end' }
  | { kind: 'array'; expect: 'value-or-end' | 'value' | 'comma-or-end' };
type Scalar =
  | { kind: 'string'; escape: '' | '\\' | 'u0' | 'u1' | 'u2' | 'u3'; isKey: boolean }
  | { kind: 'number'; text: string }
  | { kind: 'literal'; text: string };

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const LITERALS = ['true', 'false', 'null'];

/**
 * Whether `text` can still become a complete JSON document whose top level is an object: what a JSON
 * grammar must guarantee of an output that `max_tokens` cut short. Null when it can; else the offset and
 * the reason it cannot.
 */
export function jsonObjectPrefixProblem(text: string): string | null {
  const stack: Container[] = [];
  let scalar: Scalar | null = null;
  let started = false;
  let done = false;

  const valueEnded = () => {
    const top = stack.at(-1);
    if (!top) done = true;
    else top.expect = 'comma-or-end';
  };
  /** The next structural character, with no scalar open. Returns an error or null. */
  const structural = (char: string): string | null => {
    if (/\s/.test(char)) return null;
    if (done) return `text after the end of the document: ${JSON.stringify(char)}`;
    const top = stack.at(-1);
    if (!started) {
      if (char !== '{') return `the document does not start with "{" but ${JSON.stringify(char)}`;
      started = true;
      stack.push({ kind: 'object', expect: 'key-or-end' });
      return null;
    }
    if (!top) return 'no open container';
    if (top.kind === 'object') {
      switch (top.expect) {
        case 'key-or-end':
        case 'key':
          if (char === '"') {
            scalar = { kind: 'string', escape: '', isKey: true };
            return null;
          }
          if (char === '}' && top.expect === 'key-or-end') {
            stack.pop();
            valueEnded();
            return null;
          }
          return `expected a key, got ${JSON.stringify(char)}`;
        case 'colon':
          if (char !== ':') return `expected ":", got ${JSON.stringify(char)}`;
          top.expect = 'value';
          return null;
        case 'value':
          return startValue(char);
        case 'comma-or-end':
          if (char === ',') top.expect = 'key';
          else if (char === '}') {
            stack.pop();
            valueEnded();
          } else return `expected "," or "}", got ${JSON.stringify(char)}`;
          return null;
      }
    }
    switch (top.expect) {
      case 'value-or-end':
        if (char === ']') {
          stack.pop();
          valueEnded();
          return null;
        }
        return startValue(char);
      case 'value':
        return startValue(char);
      case 'comma-or-end':
        if (char === ',') top.expect = 'value';
        else if (char === ']') {
          stack.pop();
          valueEnded();
        } else return `expected "," or "]", got ${JSON.stringify(char)}`;
        return null;
    }
  };
  const startValue = (char: string): string | null => {
    if (char === '{') stack.push({ kind: 'object', expect: 'key-or-end' });
    else if (char === '[') stack.push({ kind: 'array', expect: 'value-or-end' });
    else if (char === '"') scalar = { kind: 'string', escape: '', isKey: false };
    else if (/[-0-9]/.test(char)) scalar = { kind: 'number', text: char };
    else if (/[tfn]/.test(char)) scalar = { kind: 'literal', text: char };
    else return `expected a value, got ${JSON.stringify(char)}`;
    return null;
  };

  for (let offset = 0; offset < text.length; offset++) {
    const char = text[offset] as string;
    const open = scalar as Scalar | null;
    if (open?.kind === 'string') {
      if (open.escape === '\\') open.escape = char === 'u' ? 'u0' : '';
      else if (open.escape !== '') {
        if (!/[0-9a-fA-F]/.test(char)) return `at ${offset}: bad \\u escape`;
        open.escape = open.escape === 'u0' ? 'u1' : open.escape === 'u1' ? 'u2' : open.escape === 'u2' ? 'u3' : '';
      } else if (char === '\\') open.escape = '\\';
      else if (char === '"') {
        scalar = null;
        const top = stack.at(-1);
        if (open.isKey && top?.kind === 'object') top.expect = 'colon';
        else valueEnded();
      } else if (char.charCodeAt(0) < 0x20)
        return `at ${offset}: raw control character ${JSON.stringify(char)} inside a string`;
      if (open.escape === '\\' && !/["\\/bfnrtu]/.test(text[offset + 1] ?? '"')) return `at ${offset + 1}: bad escape`;
      continue;
    }
    if (open?.kind === 'number') {
      if (/[-+0-9.eE]/.test(char)) {
        open.text += char;
        continue;
      }
      if (!NUMBER.test(open.text)) return `at ${offset}: bad number ${open.text}`;
      scalar = null;
      valueEnded();
    } else if (open?.kind === 'literal') {
      const candidate = open.text + char;
      if (LITERALS.some((literal) => literal.startsWith(candidate))) {
        open.text = candidate;
        if (LITERALS.includes(candidate)) {
          scalar = null;
          valueEnded();
        }
        continue;
      }
      return `at ${offset}: bad literal ${candidate}`;
    }
    const problem = structural(char);
    if (problem !== null) return `at ${offset}: ${problem}`;
  }
  const open = scalar as Scalar | null;
  if (open?.kind === 'number' && !NUMBER.test(open.text) && !NUMBER.test(`${open.text}0`))
    return `a number that cannot be completed: ${open.text}`;
  return null;
}
