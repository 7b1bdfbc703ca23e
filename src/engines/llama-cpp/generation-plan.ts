import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ChatModelFunctions, GbnfJsonSchema, Llama, LlamaGrammar } from 'node-llama-cpp';
import type { ChatRequest, ToolDefinition } from '../engine.js';
import { grammarForSchema } from './json-grammar.js';
import { toGbnfSchema } from './json-schema-to-gbnf.js';
import type { SchemaCheck, SchemaValidator } from './schema-validator.js';

/** How the model's output is read: plain text, the model's own tool-call syntax, or grammar-forced calls. */
type OutputMode =
  | { kind: 'text'; grammar: LlamaGrammar | null; check: ((text: string) => string | null) | null }
  | { kind: 'auto-tools'; maxParallelCalls: number }
  | { kind: 'forced-tools'; grammar: LlamaGrammar; callDepth: 1 | 2 };

export interface GenerationPlan {
  /** Tools as node-llama-cpp renders them through the chat template (absent: no tools offered). */
  functions: ChatModelFunctions | null;
  output: OutputMode;
  /** Checks one call's arguments against its tool's own schema; null = valid. */
  checkArguments: (toolName: string, argumentsValue: unknown) => string | null;
}

/** A forced turn may hold several calls, up to this many, when parallel calls are allowed. */
const MAX_PARALLEL_FORCED_CALLS = 8;

/**
 * Reading schemas, converting them and generating grammar text are synchronous and grow with the
 * schemas (bounded by REQUEST_LIMITS): each step runs in its own turn of the event loop, so a large
 * schema costs other clients a few short waits instead of one long one.
 */
export async function planGeneration(
  request: ChatRequest,
  llama: Llama,
  validator: SchemaValidator,
): Promise<GenerationPlan> {
  const offered = request.toolChoice.type === 'none' ? [] : request.tools;
  const argumentChecks = new Map<string, SchemaCheck | null>();
  for (const tool of offered) {
    if (tool.parameters) await nextTurn();
    argumentChecks.set(tool.name, tool.parameters ? validator.compile(tool.parameters, 'tools') : null);
  }
  const checkArguments = (name: string, value: unknown) => argumentChecks.get(name)?.(value) ?? null;
  const functions = offered.length > 0 ? toFunctions(offered) : null;
  return { functions, output: await outputMode(request, offered, llama, validator), checkArguments };
}

async function outputMode(
  request: ChatRequest,
  offered: ToolDefinition[],
  llama: Llama,
  validator: SchemaValidator,
): Promise<OutputMode> {
  const choice = request.toolChoice;
  if (offered.length > 0 && (choice.type === 'required' || choice.type === 'function')) {
    const candidates = choice.type === 'function' ? offered.filter((tool) => tool.name === choice.name) : offered;
    const parallel = choice.type === 'required' && request.parallelToolCalls;
    const call: GbnfJsonSchema = { oneOf: candidates.map(callSchema) } as GbnfJsonSchema;
    const schema = parallel
      ? ({ type: 'array', items: call, minItems: 1, maxItems: MAX_PARALLEL_FORCED_CALLS } as GbnfJsonSchema)
      : call;
    return {
      kind: 'forced-tools',
      grammar: await grammarForSchema(llama, schema, 'tools'),
      callDepth: parallel ? 2 : 1,
    };
  }
  if (offered.length > 0)
    return { kind: 'auto-tools', maxParallelCalls: request.parallelToolCalls ? MAX_PARALLEL_FORCED_CALLS : 1 };
  const format = request.responseFormat;
  if (format.type === 'json_object')
    return { kind: 'text', grammar: await llama.getGrammarFor('json'), check: checkJsonObject };
  if (format.type === 'json_schema') {
    const check = validator.compile(format.schema, 'response_format');
    await nextTurn();
    const converted = toGbnfSchema(format.schema, 'response_format');
    await nextTurn();
    const grammar = await grammarForSchema(llama, converted, 'response_format');
    return { kind: 'text', grammar, check: (text) => checkJson(text, check) };
  }
  return { kind: 'text', grammar: null, check: null };
}

function toFunctions(tools: ToolDefinition[]): ChatModelFunctions {
  const functions: Record<string, { description?: string; params?: GbnfJsonSchema }> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      ...(tool.description ? { description: tool.description } : {}),
      params: argumentsSchema(tool),
    };
  }
  return functions as ChatModelFunctions;
}

/** One forced call: this tool's name, then arguments in its schema (name first, so it can stream first). */
function callSchema(tool: ToolDefinition): GbnfJsonSchema {
  return {
    type: 'object',
    properties: { name: { const: tool.name }, arguments: argumentsSchema(tool) },
  } as GbnfJsonSchema;
}

function argumentsSchema(tool: ToolDefinition): GbnfJsonSchema {
  if (!tool.parameters) return { type: 'object', properties: {}, additionalProperties: false } as GbnfJsonSchema;
  return toGbnfSchema({ type: 'object', ...tool.parameters }, 'tools');
}

function checkJsonObject(text: string): string | null {
  return checkJson(text, (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? null : 'value must be a JSON object',
  );
}

function checkJson(text: string, check: (value: unknown) => string | null): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `output is not valid JSON (${(error as Error).message})`;
  }
  return check(value);
}
