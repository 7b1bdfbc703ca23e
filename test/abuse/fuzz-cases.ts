/**
 * Generated bad requests for the fuzz pass: a valid chat request with one field (or one nested
 * field) replaced by something wrong, removed, or the whole body replaced by junk. A seeded random
 * source makes every failure reproducible from its case number.
 */

export interface FuzzCase {
  /** Which top-level field the mutation targeted; null for whole-body junk. */
  field: string | null;
  description: string;
  body: string | Buffer;
  contentType: string;
}

/** mulberry32: small, seedable, good enough to pick mutations. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const deepArray = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));
const deepObject = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

/** Values of every JSON type, sizes and odd text a careless client might send in any field. */
const WRONG_VALUES: (() => unknown)[] = [
  () => null,
  () => true,
  () => 0,
  () => -1,
  () => 1.5,
  () => 1e308,
  () => -1e308,
  () => Number.MAX_SAFE_INTEGER + 2,
  () => '',
  () => 'x',
  () => '\u0000\u0001\u001f',
  () => '\ud800 lone surrogate',
  () => '\udfff\ud800',
  () => '👩‍👩‍👧‍👦 ﷽ \u202e reversed \ufeff',
  () => 'ß'.repeat(5_000),
  () => 'long '.repeat(20_000),
  () => [],
  () => [null],
  () => [1, 'two', { three: 3 }],
  () => Array.from({ length: 3000 }, () => ({})),
  () => ({}),
  () => ({ type: 'bogus' }),
  () => ({ __proto__x: 1, constructor: { prototype: 1 } }),
  () => deepArray(200),
  () => deepObject(150),
  () => deepArray(20),
];

const MESSAGE_MUTATIONS: (() => unknown)[] = [
  () => [{ role: 'user' }],
  () => [{ content: 'no role' }],
  () => [{ role: 'user', content: null }],
  () => [{ role: 'user', content: 42 }],
  () => [{ role: 'user', content: [] }],
  () => [{ role: 'user', content: [{ type: 'text' }] }],
  () => [{ role: 'user', content: [{ type: 'text', text: 5 }] }],
  () => [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
  () => [{ role: 'user', content: [{ type: 'x'.repeat(10_000) }] }],
  () => [{ role: 'assistant', content: null }],
  () => [
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{bad json' } }],
    },
  ],
  () => [
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: '', type: 'function', function: { name: 'f', arguments: '{}' } }],
    },
  ],
  () => [{ role: 'assistant', content: null, tool_calls: 'x' }],
  () => [{ role: 'tool', content: 'r', tool_call_id: 'missing' }],
  () => [{ role: 'tool', content: 'r' }],
  () => [{ role: 'system', content: 'x', name: 7 }],
  () => [{ role: 'Function', content: 'x' }],
  () => [{ role: 'user', content: 'x' }, null],
  () => [{ role: 'user', content: 'x' }, 'string message'],
  () => [{ role: { nested: true }, content: 'x' }],
];

const SCHEMA_MUTATIONS: (() => unknown)[] = [
  () => ({ type: 'bogus' }),
  () => ({ type: 'object', properties: 5 }),
  () => ({ type: 'object', properties: { a: 'not a schema' } }),
  () => ({ type: 'object', properties: { a: { $ref: '#/$defs/missing' } } }),
  () => ({ $ref: '#' }),
  () => ({ type: 'object', properties: { self: { $ref: '#' } } }),
  () => ({ allOf: [{ type: 'string' }] }),
  () => ({ type: 'string', pattern: '([' }),
  () => ({ type: 'array', items: [] }),
  () => ({ type: 'array', minItems: -5, maxItems: 1e9 }),
  () => ({ type: 'string', minLength: 1e9 }),
  () => ({ enum: [] }),
  () => ({ anyOf: [] }),
  () => ({ type: ['string', 'nope'] }),
  () => ({ type: 'object', additionalProperties: 'yes' }),
  () => ({ $defs: { a: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' }),
  () => deepObject(300),
  () => JSON.parse('{"type":"object","properties":{"a":'.repeat(70) + '{"type":"string"}' + '}}'.repeat(70)),
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function baseRequest(model: string): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 1 };
}

const FIELDS = [
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'user',
  'logit_bias',
  'metadata',
];

const JUNK_BODIES: (() => string | Buffer)[] = [
  () => '',
  () => '{',
  () => 'null',
  () => '[]',
  () => '"just a string"',
  () => '123',
  () => '{"model": "x", "messages": [}',
  () => '\ufeff{"model":"x"}',
  () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
  () => '{"__proto__": {"polluted": true}, "model": "x"}',
  () => '{"constructor": {"prototype": {"polluted": true}}}',
  () => `{"a":${'['.repeat(500_000)}${']'.repeat(500_000)}}`,
  () => '{"model":"x","messages":[{"role":"user","content":"\\ud800"}]}',
  () => 'model=x&messages=y',
];

/** The `index`-th generated case for a model name. */
export function fuzzCase(index: number, model: string, gatewayModel: string): FuzzCase {
  const random = seededRandom(index + 1);
  const roll = random();
  if (roll < 0.06) {
    return {
      field: null,
      description: `junk body #${index}`,
      body: pick(random, JUNK_BODIES)(),
      contentType: pick(random, ['application/json', 'text/plain', 'application/octet-stream']),
    };
  }
  const body = baseRequest(random() < 0.2 ? gatewayModel : model);
  const field = pick(random, FIELDS);
  let description: string;
  if (roll < 0.12) {
    delete body[field];
    description = `without ${field}`;
  } else if (field === 'messages' && roll < 0.5) {
    body.messages = pick(random, MESSAGE_MUTATIONS)();
    description = 'a broken message';
  } else if (field === 'response_format' && roll < 0.6) {
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: 'fuzz', schema: pick(random, SCHEMA_MUTATIONS)() },
    };
    description = 'a broken json_schema';
  } else if (field === 'tools' && roll < 0.6) {
    body.tools = [{ type: 'function', function: { name: 'fuzz', parameters: pick(random, SCHEMA_MUTATIONS)() } }];
    description = 'a broken tool schema';
  } else {
    body[field] = pick(random, WRONG_VALUES)();
    description = `a wrong ${field}`;
  }
  if (random() < 0.3) body.stream = true;
  return {
    field,
    description: `${description} #${index}`,
    body: JSON.stringify(body),
    contentType: 'application/json',
  };
}
