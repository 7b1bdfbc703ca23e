import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { EngineError } from '../engine-error.js';

// ajv-formats is CommonJS with a default export; under NodeNext the callable sits on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;

/**
 * Checks finished output against the request's own JSON schema: the grammar guarantees the shape,
 * this catches what a grammar cannot express (minimum, pattern, an integer written as 1e5, ...).
 */
export class SchemaValidator {
  // strictNumbers: Infinity (what an overlong exponent parses to) is no number a client can use.
  private readonly ajv = new Ajv({ strict: false, strictNumbers: true, allErrors: false, validateSchema: false });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
  }

  /** Compiles once per distinct schema; an uncompilable schema is the caller's 400, named by `param`. */
  compile(schema: Record<string, unknown>, param: string): (value: unknown) => string | null {
    const cacheKey = JSON.stringify(schema);
    let validate = this.cache.get(cacheKey);
    if (!validate) {
      try {
        validate = this.ajv.compile(schema);
      } catch (error) {
        throw new EngineError('invalid_request', `Invalid schema for ${param}: ${(error as Error).message}`, { param });
      }
      if (this.cache.size > 256) this.cache.clear();
      this.cache.set(cacheKey, validate);
    }
    const check = validate;
    return (value) => (check(value) ? null : this.ajv.errorsText(check.errors, { dataVar: 'value' }));
  }
}
