import { Validator, type Schema } from '@cfworker/json-schema';
import { EngineError } from '../engine-error.js';

/** What a check finds wrong with a value; null = valid. */
export type SchemaCheck = (value: unknown) => string | null;

/**
 * Checks finished output against the request's own JSON schema: the grammar guarantees the shape,
 * this catches what a grammar cannot express (minimum, pattern, an integer written as 1e5, ...).
 *
 * The validator interprets the schema instead of compiling it to code: compiling (ajv) took a quarter
 * of a millisecond per property on the event loop, superlinearly, and a compiled validator was worth
 * caching, which let clients pin memory with schemas of their own. Building one here is a walk over
 * the schema (about a millisecond per thousand properties) and is kept only for the request.
 */
export class SchemaValidator {
  /** A schema the validator cannot read at all is the caller's 400, named by `param`. */
  compile(schema: Record<string, unknown>, param: string): SchemaCheck {
    let validator: Validator;
    try {
      validator = new Validator(schema as Schema, '2020-12', true);
    } catch (error) {
      throw new EngineError('invalid_request', `Invalid schema for ${param}: ${(error as Error).message}`, { param });
    }
    return (value) => {
      // JSON.parse reads an overlong exponent as Infinity: no number a client can use.
      const nonFinite = nonFiniteNumberAt(value);
      if (nonFinite !== null) return `value${nonFinite} must be a finite number`;
      const result = validator.validate(value);
      if (result.valid) return null;
      // Short-circuit: the errors run from the outermost keyword to the one that failed.
      const cause = result.errors.at(-1);
      return cause
        ? `value${cause.instanceLocation.slice(1)} ${lowerFirst(cause.error)}`
        : 'value does not match the schema';
    };
  }
}

/** The JSON pointer of the first number that is not finite, or null (walked without recursion). */
function nonFiniteNumberAt(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [item, at] = stack.pop()!;
    if (typeof item === 'number' && !Number.isFinite(item)) return at;
    if (typeof item === 'object' && item !== null)
      for (const [key, child] of Object.entries(item)) stack.push([child, `${at}/${key}`]);
  }
  return null;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1).replace(/\.$/, '');
}
