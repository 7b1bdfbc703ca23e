import { GatewayError } from '../errors/index.js';
import { measureJson } from './json-shape.js';
import { REQUEST_LIMITS as LIMITS } from './request-limits.js';

type Body = Record<string, unknown>;

/**
 * Refuses a request past any of REQUEST_LIMITS before anything else reads it: every check here costs
 * at most one walk of the (size-limited) body, and what it lets through is cheap to validate, render
 * and compile. Shapes are not checked here (the schema does that); only sizes.
 */
export function checkRequestBounds(body: Body): void {
  checkModelName(body.model);
  checkArrayLength(body.messages, 'messages', LIMITS.maxMessages);
  checkStop(body.stop);
  checkArrayLength(body.tools, 'tools', LIMITS.maxTools);
  checkSchemas(body);
  checkDepth(body);
}

/** The same kind of bounds for POST /completions: the prompt list, stop sequences, nesting. */
export function checkCompletionBounds(body: Body): void {
  checkModelName(body.model);
  checkArrayLength(body.prompt, 'prompt', LIMITS.maxPrompts);
  checkStop(body.stop);
  checkDepth(body);
}

/** The same kind of bounds for POST /embeddings: the input list and each token-array input, nesting. */
export function checkEmbeddingBounds(body: Body): void {
  checkModelName(body.model);
  checkArrayLength(body.input, 'input', LIMITS.maxEmbeddingInputs);
  if (Array.isArray(body.input)) {
    body.input.forEach((input, index) => checkArrayLength(input, `input[${index}]`, LIMITS.maxEmbeddingInputTokens));
  }
  checkDepth(body);
}

function checkModelName(model: unknown): void {
  if (typeof model === 'string' && model.length > LIMITS.maxModelNameLength) {
    throw tooLong('model', `a string of at most ${LIMITS.maxModelNameLength} characters`, `${model.length} characters`);
  }
}

function checkArrayLength(value: unknown, param: string, max: number): void {
  if (Array.isArray(value) && value.length > max) {
    throw new GatewayError(
      'invalid_request',
      `Invalid '${param}': array too long. Expected an array with maximum length ${max}, but got an array with length ${value.length} instead.`,
      { param },
    );
  }
}

function checkStop(stop: unknown): void {
  checkArrayLength(stop, 'stop', LIMITS.maxStopSequences);
  const sequences = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : [];
  sequences.forEach((sequence, index) => {
    if (typeof sequence === 'string' && sequence.length > LIMITS.maxStopLength) {
      const param = Array.isArray(stop) ? `stop[${index}]` : 'stop';
      throw tooLong(
        param,
        `a stop sequence of at most ${LIMITS.maxStopLength} characters`,
        `${sequence.length} characters`,
      );
    }
  });
}

/** Every schema of the request shares one node budget: together they become one grammar and validators. */
function checkSchemas(body: Body): void {
  let nodesLeft: number = LIMITS.maxSchemaNodes;
  for (const { schema, param } of requestSchemas(body)) {
    const shape = measureJson(schema, { maxNodes: nodesLeft, maxDepth: LIMITS.maxSchemaDepth });
    if (shape.depth > LIMITS.maxSchemaDepth) {
      throw new GatewayError(
        'invalid_request',
        `Invalid schema for '${param}': it nests deeper than ${LIMITS.maxSchemaDepth} levels.`,
        { param },
      );
    }
    if (shape.nodes > nodesLeft) {
      throw new GatewayError(
        'invalid_request',
        `Invalid schema for '${param}': the request's schemas together may hold at most ${LIMITS.maxSchemaNodes} values (objects, arrays, strings, numbers); this one passes that limit.`,
        { param },
      );
    }
    nodesLeft -= shape.nodes;
  }
}

function* requestSchemas(body: Body): Generator<{ schema: unknown; param: string }> {
  const format = asObject(body.response_format);
  const jsonSchema = asObject(format?.json_schema);
  if (jsonSchema && 'schema' in jsonSchema) yield { schema: jsonSchema.schema, param: 'response_format' };
  if (!Array.isArray(body.tools)) return;
  for (const [index, tool] of body.tools.entries()) {
    const parameters = asObject(asObject(tool)?.function)?.parameters;
    if (parameters !== undefined) yield { schema: parameters, param: `tools[${index}].function.parameters` };
  }
}

/** Anything else nested absurdly deep (extra fields forwarded upstream, content parts) is refused by its top-level field. */
function checkDepth(body: Body): void {
  for (const [field, value] of Object.entries(body)) {
    if (
      measureJson(value, { maxNodes: Number.POSITIVE_INFINITY, maxDepth: LIMITS.maxBodyDepth }).depth >
      LIMITS.maxBodyDepth
    ) {
      throw new GatewayError(
        'invalid_request',
        `Invalid '${field}': nested deeper than ${LIMITS.maxBodyDepth} levels.`,
        { param: field },
      );
    }
  }
}

function tooLong(param: string, expected: string, got: string): GatewayError {
  return new GatewayError('invalid_request', `Invalid '${param}': expected ${expected}, but got ${got}.`, { param });
}

function asObject(value: unknown): Body | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : null;
}
