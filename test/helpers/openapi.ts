import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { OPENAPI_SPEC } from './paths.js';

/**
 * OpenAI's published OpenAPI description (`test/fixtures/spec/openai-openapi.yaml.gz`), compiled with ajv so
 * tests can validate what the server writes against the schemas real clients were generated from.
 *
 * The file says `openapi: 3.1.0`, so its schemas are JSON Schema 2020-12 (`type: "null"`, `anyOf`,
 * `const`), which is what Ajv2020 speaks. It still carries 111 OpenAPI-3.0 `nullable: true` keywords,
 * some beside a `$ref` without a `type` (ajv refuses `nullable` without `type`); `normalizeNullable`
 * rewrites each one to its 3.1 meaning (`anyOf: [schema, {type: "null"}]`). OpenAPI's own keywords
 * (`discriminator`, `example`, `x-*`, `deprecated`) are annotations: `strict: false` lets ajv ignore
 * them. `format: unixtime` (144 uses), `int64`, `double`, ... are OpenAPI formats ajv-formats lacks;
 * they are checked here as what they mean (an integer, a number).
 */
const DOC_ID = 'openai-openapi';

type SchemaName =
  | 'CreateChatCompletionStreamResponse'
  | 'CreateChatCompletionResponse'
  | 'ErrorResponse'
  | 'Error'
  | 'ListModelsResponse'
  | 'Model'
  | 'CompletionUsage'
  | 'CreateCompletionResponse'
  | 'CreateEmbeddingResponse';

export interface OpenApiValidator {
  /** The ajv errors of `value` against `components.schemas[name]` (empty when valid). */
  errors(name: SchemaName, value: unknown): ErrorObject[];
  /** Throws a readable error naming the schema, the value and every violation. */
  assertValid(name: SchemaName, value: unknown): void;
}

let cached: OpenApiValidator | null = null;

/** Parses the 3 MB spec and compiles on first use; later calls (same test file) reuse it. */
export function openApiValidator(): OpenApiValidator {
  cached ??= build();
  return cached;
}

function build(): OpenApiValidator {
  const document = parse(gunzipSync(readFileSync(OPENAPI_SPEC)).toString('utf8')) as Record<string, unknown>;
  if (typeof document.openapi !== 'string' || !document.openapi.startsWith('3.')) {
    throw new Error(`${OPENAPI_SPEC} is not an OpenAPI 3.x document`);
  }
  normalizeNullable(document);
  // The document as a whole is not a JSON schema: keep only what $refs point into.
  const schemaDocument = { $id: DOC_ID, components: document.components };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, validateFormats: true });
  // ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
    ajv: Ajv2020,
  ) => Ajv2020;
  addFormats(ajv);
  ajv.addFormat('unixtime', { type: 'number', validate: (value: number) => Number.isInteger(value) && value >= 0 });
  ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isInteger(value) });
  for (const format of ['double', 'float']) ajv.addFormat(format, { type: 'number', validate: () => true });
  for (const format of ['binary', 'png']) ajv.addFormat(format, true);
  ajv.addSchema(schemaDocument);

  const validators = new Map<SchemaName, ValidateFunction>();
  const validatorFor = (name: SchemaName): ValidateFunction => {
    let validate = validators.get(name);
    if (!validate) {
      validate = ajv.compile({ $ref: `${DOC_ID}#/components/schemas/${name}` });
      validators.set(name, validate);
    }
    return validate;
  };
  return {
    errors(name, value) {
      const validate = validatorFor(name);
      return validate(value) ? [] : [...(validate.errors ?? [])];
    },
    assertValid(name, value) {
      const errors = this.errors(name, value);
      if (errors.length > 0) {
        const lines = errors.map(
          (error) => `  ${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`,
        );
        throw new Error(`not a valid ${name}:\n${lines.join('\n')}\nvalue: ${JSON.stringify(value)}`);
      }
    },
  };
}

/** `{..., nullable: true}` (OpenAPI 3.0) -> `{anyOf: [{...}, {type: "null"}]}` (3.1 / JSON Schema), in place. */
function normalizeNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) normalizeNullable(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Record<string, unknown>;
  for (const value of Object.values(schema)) normalizeNullable(value);
  if (!('nullable' in schema)) return;
  const nullable = schema.nullable === true;
  delete schema.nullable;
  if (!nullable) return;
  const inner: Record<string, unknown> = { ...schema };
  for (const key of Object.keys(schema)) delete schema[key];
  if (typeof inner.description === 'string') schema.description = inner.description;
  schema.anyOf = [inner, { type: 'null' }];
}
