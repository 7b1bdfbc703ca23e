import type { GbnfJsonSchema } from 'node-llama-cpp';
import { EngineError } from '../engine-error.js';

type Schema = Record<string, unknown>;

/** Keywords with no meaning for generation. */
const IGNORED = new Set([
  'title',
  'description',
  '$schema',
  '$id',
  '$comment',
  'examples',
  'default',
  'required',
  'strict',
  'nullable',
  'readOnly',
  'writeOnly',
  'deprecated',
]);
const UNSUPPORTED = [
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'patternProperties',
  'dependentSchemas',
  'dependentRequired',
  'propertyNames',
  'contains',
  'unevaluatedProperties',
  'unevaluatedItems',
];
const GRAMMAR_FORMATS = new Set(['date-time', 'time', 'date']);

/**
 * Translates a request's JSON schema (OpenAI's dialect of JSON Schema) into node-llama-cpp's grammar
 * schema. The grammar guarantees structure and types; value constraints it cannot express (minimum,
 * pattern, ...) are enforced by validating the finished output against the original schema.
 * A schema that cannot be followed at all is the caller's error, named by `param`.
 */
export function toGbnfSchema(schema: unknown, param: string): GbnfJsonSchema {
  const defs = collectDefs(schema, param);
  const converted = convert(schema, param, '#');
  if (Object.keys(defs).length === 0) return converted;
  return { ...converted, $defs: defs } as GbnfJsonSchema;
}

function collectDefs(schema: unknown, param: string): Record<string, GbnfJsonSchema> {
  if (!isObject(schema)) return {};
  const defs: Record<string, GbnfJsonSchema> = {};
  for (const key of ['$defs', 'definitions'] as const) {
    const group = schema[key];
    if (!isObject(group)) continue;
    for (const [name, value] of Object.entries(group)) defs[name] = convert(value, param, `#/${key}/${name}`);
  }
  return defs;
}

function convert(schema: unknown, param: string, at: string): GbnfJsonSchema {
  if (schema === true || (isObject(schema) && Object.keys(schema).every((key) => IGNORED.has(key)))) return anyValue();
  if (!isObject(schema)) throw unusable(param, at, 'a schema must be an object');
  const unsupported = UNSUPPORTED.find((key) => key in schema);
  if (unsupported) throw unusable(param, at, `the keyword "${unsupported}" is not supported`);
  if (typeof schema.$ref === 'string')
    return { $ref: schema.$ref.replace('#/definitions/', '#/$defs/') } as GbnfJsonSchema;
  if ('const' in schema) return { const: schema.const } as GbnfJsonSchema;
  if (Array.isArray(schema.enum)) return { enum: schema.enum } as GbnfJsonSchema;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives))
    return { oneOf: alternatives.map((item, index) => convert(item, param, `${at}/anyOf/${index}`)) } as GbnfJsonSchema;
  const type = schema.type;
  if (Array.isArray(type))
    return { oneOf: type.map((single) => convert({ ...schema, type: single }, param, at)) } as GbnfJsonSchema;
  switch (type) {
    case 'object':
      return convertObject(schema, param, at);
    case 'array':
      return convertArray(schema, param, at);
    case 'string':
      return convertString(schema);
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type };
    case undefined:
      if (isObject(schema.properties)) return convertObject(schema, param, at);
      return anyValue();
    default:
      throw unusable(param, at, `unknown type "${String(type)}"`);
  }
}

function convertObject(schema: Schema, param: string, at: string): GbnfJsonSchema {
  const properties: Record<string, GbnfJsonSchema> = {};
  const declared = isObject(schema.properties) ? schema.properties : {};
  for (const [name, value] of Object.entries(declared))
    properties[name] = convert(value, param, `${at}/properties/${name}`);
  const additional = schema.additionalProperties;
  const hasDeclared = Object.keys(properties).length > 0;
  // Without declared properties, "an object" means any object; with them, the declared keys only.
  const additionalProperties = isObject(additional)
    ? convert(additional, param, `${at}/additionalProperties`)
    : !hasDeclared && additional !== false;
  return { type: 'object', properties, additionalProperties } as GbnfJsonSchema;
}

function convertArray(schema: Schema, param: string, at: string): GbnfJsonSchema {
  const result: Record<string, unknown> = { type: 'array' };
  if (schema.items !== undefined && schema.items !== true) result.items = convert(schema.items, param, `${at}/items`);
  if (Array.isArray(schema.prefixItems))
    result.prefixItems = schema.prefixItems.map((item, index) => convert(item, param, `${at}/prefixItems/${index}`));
  if (typeof schema.minItems === 'number') result.minItems = schema.minItems;
  if (typeof schema.maxItems === 'number') result.maxItems = schema.maxItems;
  return result as GbnfJsonSchema;
}

function convertString(schema: Schema): GbnfJsonSchema {
  if (typeof schema.format === 'string' && GRAMMAR_FORMATS.has(schema.format))
    return { type: 'string', format: schema.format as 'date' };
  const result: Record<string, unknown> = { type: 'string' };
  if (typeof schema.minLength === 'number') result.minLength = schema.minLength;
  if (typeof schema.maxLength === 'number') result.maxLength = schema.maxLength;
  return result as GbnfJsonSchema;
}

/** Any JSON value: the grammar has no "anything" type, so it is the union of every type. */
function anyValue(): GbnfJsonSchema {
  return {
    oneOf: [
      { type: ['string', 'number', 'boolean', 'null'] },
      { type: 'object', additionalProperties: true },
      { type: 'array' },
    ],
  } as GbnfJsonSchema;
}

function unusable(param: string, at: string, reason: string): EngineError {
  return new EngineError('invalid_request', `Invalid schema for ${param} at ${at}: ${reason}.`, { param });
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
