import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, postChat, type CompletionJson } from '../helpers/api.js';
import { endedWithDone, liveRequest, streamText, usageOf, type LiveRequest } from '../helpers/live-request.js';
import { storiesModel, startTestServer, type TestServer } from '../helpers/test-server.js';

/** What the request fields do to the generated text, on the real stories260K model. */

const MODEL = storiesModel.name;
const SOLO = 'solo';
const prompt = [{ role: 'user', content: 'Once upon a time' }];

let harness: TestServer;
let client: OpenAI;

async function complete(body: Record<string, unknown>): Promise<CompletionJson> {
  const response = await postChat<CompletionJson>(harness, { model: MODEL, messages: prompt, ...body });
  expect(response.status, response.text).toBe(200);
  return response.json!;
}

async function stream(body: Record<string, unknown>): Promise<LiveRequest> {
  const live = liveRequest(`${harness.baseURL}/chat/completions`, {
    apiKey: harness.apiKey,
    body: { model: MODEL, messages: prompt, ...body, stream: true },
  });
  await live.finished;
  expect(await live.status).toBe(200);
  expect(endedWithDone(live), live.text.slice(-300)).toBe(true);
  return live;
}

function textOf(completion: CompletionJson, index = 0): string {
  return completion.choices.find((choice) => choice.index === index)?.message.content ?? '';
}

function streamFinish(live: LiveRequest, index = 0): string | null | undefined {
  return live.chunksJson
    .flatMap((chunk) => chunk.choices ?? [])
    .find((choice) => choice.index === index && choice.finish_reason !== null)?.finish_reason;
}

beforeAll(async () => {
  harness = await startTestServer({ models: [storiesModel, { ...storiesModel, name: SOLO, sequences: 1 }] });
  client = new OpenAI({ baseURL: harness.baseURL, apiKey: harness.apiKey, maxRetries: 0 });
});
afterAll(async () => harness?.close());

describe('temperature 0', () => {
  it('gives the same text twice, streamed or not', async () => {
    const first = textOf(await complete({ temperature: 0, max_tokens: 80 }));
    const second = textOf(await complete({ temperature: 0, max_tokens: 80 }));
    const streamed = streamText(await stream({ temperature: 0, max_tokens: 80 }));
    expect(first.length).toBeGreaterThan(20);
    expect(second).toBe(first);
    expect(streamed).toBe(first);
  });

  it('gives the same text after a different request ran on the same (only) sequence', async () => {
    const body = { model: SOLO, temperature: 0, max_tokens: 80 };
    const first = textOf(await complete(body));
    // Something else on the one sequence: another prompt, sampled, longer.
    const other = await complete({
      model: SOLO,
      messages: [
        { role: 'system', content: 'Tell a story.' },
        { role: 'user', content: 'A dog and a ball' },
      ],
      temperature: 1,
      seed: 7,
      max_tokens: 120,
    });
    expect(textOf(other)).not.toBe(first);
    // A cancelled one too: the cache must not keep half a turn.
    const cancelled = liveRequest(`${harness.baseURL}/chat/completions`, {
      apiKey: harness.apiKey,
      body: {
        ...body,
        messages: [{ role: 'user', content: 'The moon' }],
        max_tokens: 300,
        stream: true,
        temperature: 1,
      },
    });
    await cancelled.firstContent();
    cancelled.destroy();
    await cancelled.finished;
    const again = textOf(await complete(body));
    expect(again).toBe(first);
    // And a continuation of the same conversation differs from a fresh start, so the history is really read.
    const continued = textOf(
      await complete({
        ...body,
        messages: [...prompt, { role: 'assistant', content: first }, { role: 'user', content: 'And then?' }],
      }),
    );
    expect(continued).not.toBe(first);
  });
});

describe('stop', () => {
  it('ends the output before the stop string, which never appears; finish_reason stop', async () => {
    const reference = textOf(await complete({ temperature: 0, max_tokens: 120 }));
    // A word from the middle of the reference text: the output must end right before its first occurrence.
    const words = reference.split(/\s+/).filter((word) => /^[A-Za-z]{4,}$/.test(word));
    const stopWord = words[Math.floor(words.length / 2)];
    expect(stopWord, `no usable word in ${JSON.stringify(reference)}`).toBeDefined();
    const cut = reference.indexOf(stopWord!);
    expect(cut).toBeGreaterThan(0);

    const plain = await complete({ temperature: 0, max_tokens: 120, stop: [stopWord!, 'zzzzqqqq'] });
    expect(textOf(plain)).not.toContain(stopWord);
    expect(textOf(plain)).toBe(reference.slice(0, cut));
    expect(plain.choices[0]!.finish_reason).toBe('stop');

    const live = await stream({ temperature: 0, max_tokens: 120, stop: stopWord });
    expect(streamText(live)).toBe(reference.slice(0, cut));
    expect(live.events.some((event) => event.text.includes(stopWord!))).toBe(false);
    expect(streamFinish(live)).toBe('stop');
    // Tokens are counted up to the stop, not to max_tokens.
    expect(usageOf(live)!.completion_tokens).toBeLessThan(120);
    expect(usageOf(live)!.completion_tokens).toBeGreaterThan(0);
  });

  it('a stop string spanning several tokens (with a space) works too', async () => {
    const reference = textOf(await complete({ temperature: 0, max_tokens: 120 }));
    const match = /\b[a-z]+ [a-z]+\b/.exec(reference.slice(30));
    expect(match).not.toBeNull();
    const stop = match![0];
    const cut = reference.indexOf(stop);
    const result = await complete({ temperature: 0, max_tokens: 120, stop });
    expect(textOf(result)).toBe(reference.slice(0, cut));
    expect(result.choices[0]!.finish_reason).toBe('stop');
  });
});

describe('max_tokens and max_completion_tokens', () => {
  it.each(['max_tokens', 'max_completion_tokens'])(
    '%s: 5 gives exactly 5 completion tokens and finish_reason length',
    async (field) => {
      const plain = await complete({ temperature: 0, [field]: 5 });
      expect(plain.usage.completion_tokens).toBe(5);
      expect(plain.usage.total_tokens).toBe(plain.usage.prompt_tokens + 5);
      expect(plain.choices[0]!.finish_reason).toBe('length');

      const live = await stream({ temperature: 0, [field]: 5 });
      expect(usageOf(live)).toEqual(plain.usage);
      expect(streamFinish(live)).toBe('length');
      expect(streamText(live)).toBe(textOf(plain));
    },
  );

  it('max_completion_tokens wins over max_tokens', async () => {
    const result = await complete({ temperature: 0, max_tokens: 50, max_completion_tokens: 3 });
    expect(result.usage.completion_tokens).toBe(3);
  });

  it('the SDK sees the same counts', async () => {
    const result = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_completion_tokens: 7,
      temperature: 0,
    });
    expect(result.usage?.completion_tokens).toBe(7);
    expect(result.choices[0]?.finish_reason).toBe('length');
  });
});

describe('seed', () => {
  it('the same seed at temperature 1 gives the same text; different seeds differ', async () => {
    const body = { temperature: 1, max_tokens: 60 };
    const a = textOf(await complete({ ...body, seed: 42 }));
    const b = textOf(await complete({ ...body, seed: 42 }));
    const streamed = streamText(await stream({ ...body, seed: 42 }));
    expect(b).toBe(a);
    expect(streamed).toBe(a);
    const others = await Promise.all([43, 44, 45].map(async (seed) => textOf(await complete({ ...body, seed }))));
    expect(new Set([a, ...others]).size).toBeGreaterThanOrEqual(3);
  });

  it('without a seed, temperature 1 varies', async () => {
    const texts = await Promise.all(
      [1, 2, 3].map(async () => textOf(await complete({ temperature: 1, max_tokens: 60 }))),
    );
    expect(new Set(texts).size).toBeGreaterThan(1);
  });
});

describe('n', () => {
  it('n=2 with a seed gives two different, reproducible choices', async () => {
    const body = { temperature: 1, max_tokens: 40, seed: 11, n: 2 };
    const first = await complete(body);
    expect(first.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(first.choices.every((choice) => (choice.message.content ?? '').length > 0)).toBe(true);
    expect(textOf(first, 0)).not.toBe(textOf(first, 1));
    expect(first.usage.completion_tokens).toBe(80);
    const again = await complete(body);
    expect([textOf(again, 0), textOf(again, 1)]).toEqual([textOf(first, 0), textOf(first, 1)]);
  });

  it('n=2 streamed: both choices announce the role, stream their text and finish; usage sums both', async () => {
    const body = { temperature: 1, max_tokens: 40, seed: 11, n: 2 };
    const plain = await complete(body);
    const live = await stream(body);
    const roles = live.chunksJson
      .flatMap((chunk) => chunk.choices ?? [])
      .filter((choice) => choice.delta.role === 'assistant');
    expect(roles.map((choice) => choice.index).sort()).toEqual([0, 1]);
    expect(streamText(live, 0)).toBe(textOf(plain, 0));
    expect(streamText(live, 1)).toBe(textOf(plain, 1));
    expect(streamFinish(live, 0)).toBe('length');
    expect(streamFinish(live, 1)).toBe('length');
    expect(usageOf(live)).toEqual(plain.usage);
  });
});

describe('penalties', () => {
  it('presence and frequency penalties are accepted and change a repetitive greedy text', async () => {
    const plain = textOf(await complete({ temperature: 0, max_tokens: 150 }));
    const penalised = await complete({ temperature: 0, max_tokens: 150, presence_penalty: 1.5, frequency_penalty: 2 });
    expect(penalised.usage.completion_tokens).toBeGreaterThan(0);
    expect(textOf(penalised)).not.toBe(plain);
    const negative = await complete({ temperature: 0, max_tokens: 20, presence_penalty: -2, frequency_penalty: -2 });
    expect(negative.choices[0]!.finish_reason).toMatch(/^(stop|length)$/);
  });
});

describe('prompt_tokens', () => {
  it('is the same streamed and not, and grows with the prompt', async () => {
    const plain = await complete({ max_tokens: 2 });
    const live = await stream({ max_tokens: 2 });
    expect(usageOf(live)!.prompt_tokens).toBe(plain.usage.prompt_tokens);

    const longer = await complete({
      max_tokens: 2,
      messages: [{ role: 'system', content: 'You tell short stories.' }, ...prompt],
    });
    expect(longer.usage.prompt_tokens).toBeGreaterThan(plain.usage.prompt_tokens);
    const longest = await complete({
      max_tokens: 2,
      messages: [
        { role: 'system', content: 'You tell short stories.' },
        { role: 'user', content: 'Once upon a time there was a big red dog who liked to run.' },
      ],
    });
    expect(longest.usage.prompt_tokens).toBeGreaterThan(longer.usage.prompt_tokens);
  });

  it('counts text parts like the same string', async () => {
    const asString = await complete({ max_tokens: 1, messages: [{ role: 'user', content: 'Once upon a time' }] });
    const asParts = await complete({
      max_tokens: 1,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Once upon ' },
            { type: 'text', text: 'a time' },
          ],
        },
      ],
    });
    expect(asParts.usage.prompt_tokens).toBe(asString.usage.prompt_tokens);
  });
});

describe('context overflow', () => {
  const huge = [{ role: 'user', content: 'the cat sat on the mat. '.repeat(400) }];

  it('a prompt larger than the context is 400 context_length_exceeded', async () => {
    const error = expectError(await postChat(harness, { model: MODEL, messages: huge }), 400, {
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
    });
    expect(error.message).toContain(String(storiesModel.contextSize));
  });

  it('a prompt of many slices is refused by its sliced count, before the exact tokenization', async () => {
    const many = [{ role: 'user', content: 'the cat sat on the mat. '.repeat(2_000) }];
    const error = expectError(await postChat(harness, { model: MODEL, messages: many }), 400, {
      code: 'context_length_exceeded',
    });
    expect(error.message).toContain('take more than');
  });

  it('streamed, the same 400 comes before any event', async () => {
    const response = await postChat(harness, { model: MODEL, messages: huge, stream: true });
    expectError(response, 400, { code: 'context_length_exceeded' });
    expect(response.text).not.toContain('data:');
  });

  it('max_tokens beyond the room left is 400 context_length_exceeded naming max_tokens', async () => {
    expectError(
      await postChat(harness, { model: MODEL, messages: prompt, max_tokens: storiesModel.contextSize }),
      400,
      {
        code: 'context_length_exceeded',
        param: 'max_tokens',
      },
    );
  });

  it('the SDK raises BadRequestError with the code', async () => {
    const error = await client.chat.completions
      .create({ model: MODEL, messages: huge as OpenAI.Chat.ChatCompletionMessageParam[] })
      .then(
        () => null,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
  });

  it('without max_tokens, a completion stops at the end of the context with finish_reason length', async () => {
    const result = await complete({ temperature: 0 });
    expect(result.usage.total_tokens).toBeLessThanOrEqual(storiesModel.contextSize);
    if (result.choices[0]!.finish_reason === 'length') expect(result.usage.total_tokens).toBe(storiesModel.contextSize);
  });
});
