import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GbnfJsonSchema, Llama, LlamaGrammar } from 'node-llama-cpp';
import { EngineError } from '../engine-error.js';

/**
 * node-llama-cpp's JSON-schema grammar lets an integer carry an exponent (`461e3`) and any number an
 * exponent of up to 16 digits (`6e62009587677033` parses as Infinity). Clients read the first as a
 * float and cannot use the second at all, so the number rules are narrowed before compiling:
 * integers are plain digits within 2^53, and exponents have at most two digits.
 */
const INTEGER_RULE = /^integer-number-rule ::= .*$/m;
const FRACTIONAL_RULE = /^fractional-number-rule ::= .*$/m;
const SAFE_INTEGER = 'integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,14})';
const SAFE_FRACTIONAL =
  'fractional-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,14}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?';

/**
 * A grammar for values of `schema`, with the same end-of-output settings node-llama-cpp gives its own.
 * The schema is the client's: one llama.cpp cannot turn into a grammar (a `$ref` cycle with no
 * structure in between, `minLength: 1000000000`, beyond llama.cpp's repetition limit) is the
 * client's 400, named by `param`, not a server error.
 */
export async function grammarForSchema(llama: Llama, schema: GbnfJsonSchema, param: string): Promise<LlamaGrammar> {
  // Schemas built at run time defeat node-llama-cpp's compile-time schema typing; the runtime takes any GbnfJsonSchema.
  const create = llama.createGrammarForJsonSchema as (schema: GbnfJsonSchema) => Promise<LlamaGrammar>;
  try {
    const generated = await create.call(llama, schema);
    // Generating the text above and parsing it again below are each proportional to the schema.
    await nextTurn();
    const grammar = generated.grammar.replace(INTEGER_RULE, SAFE_INTEGER).replace(FRACTIONAL_RULE, SAFE_FRACTIONAL);
    return await llama.createGrammar({ grammar, stopGenerationTriggers: ['\n'.repeat(4)], trimWhitespaceSuffix: true });
  } catch (error) {
    throw new EngineError(
      'invalid_request',
      `Invalid schema for ${param}: no grammar can be built from it (a $ref cycle, or a length or item count too large to generate).`,
      { param, cause: error },
    );
  }
}
