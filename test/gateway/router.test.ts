import { describe, expect, it } from 'vitest';
import type { ChatRequest, Engine, StreamPart } from '../../src/engines/engine.js';
import { EngineError } from '../../src/engines/engine-error.js';
import { PartQueue } from '../../src/engines/part-queue.js';
import { pickDeployment } from '../../src/router/balancer.js';
import { Deployment } from '../../src/router/deployment.js';
import { DEFAULT_ROUTING_POLICY, SINGLE_ENGINE_POLICY, type RoutingPolicy } from '../../src/router/routing-policy.js';
import { startWithFailover } from '../../src/router/start-with-failover.js';

type Behaviour = 'ok' | 'hold' | EngineError;

/** An engine that does what its script says, one entry per request (the last one repeats). */
class ScriptedEngine implements Engine {
  readonly kind = 'openai' as const;
  readonly capabilities = { tools: true, jsonSchema: true, maxChoices: 1, contextSize: null };
  snapshot() {
    return { loaded: true, sequences: null };
  }
  calls = 0;
  constructor(
    readonly id: string,
    private readonly script: Behaviour[],
  ) {}
  async startChat(): Promise<PartQueue> {
    const behaviour = this.script[Math.min(this.calls, this.script.length - 1)]!;
    this.calls += 1;
    if (behaviour instanceof EngineError) throw behaviour;
    const parts: StreamPart[] = [
      { type: 'text-delta', choice: 0, text: this.id },
      { type: 'finish', choice: 0, finishReason: 'stop' },
      { type: 'usage', usage: { promptTokens: 1, completionTokens: 1, source: 'engine' } },
    ];
    return PartQueue.from(parts);
  }
  ready = () => Promise.resolve();
  close = () => Promise.resolve();
}

const request = { model: 'm' } as ChatRequest;
const signal = new AbortController().signal;

function clock() {
  let time = 1_000;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

function deployments(
  engines: ScriptedEngine[],
  policy: Partial<RoutingPolicy> = {},
  weights: number[] = [],
): Deployment[] {
  const merged = { ...DEFAULT_ROUTING_POLICY, ...policy };
  return engines.map((engine, index) => new Deployment(engine, weights[index] ?? 1, merged));
}

async function drain(parts: AsyncIterable<StreamPart>): Promise<void> {
  for await (const _ of parts);
}

const serverError = () => new EngineError('upstream_error', 'HTTP 500', { retryable: true });

describe('balancing', () => {
  it('picks the least in-flight per weight', async () => {
    const [a, b] = deployments([new ScriptedEngine('a', ['ok']), new ScriptedEngine('b', ['ok'])], {}, [1, 2]);
    const held = await Promise.all([a!.startChat(request, signal), b!.startChat(request, signal)]);
    // a: 1 in flight / weight 1 = 1; b: 1 / 2 = 0.5.
    expect(pickDeployment([a!, b!])).toBe(b);
    await Promise.all(held.map(drain));
    expect(a!.inFlight + b!.inFlight).toBe(0);
  });

  it('breaks ties at random in proportion to weight', () => {
    const [a, b] = deployments([new ScriptedEngine('a', ['ok']), new ScriptedEngine('b', ['ok'])], {}, [1, 3]);
    const counts = { a: 0, b: 0 };
    for (let ticket = 0; ticket < 100; ticket += 1) {
      const picked = pickDeployment([a!, b!], () => ticket / 100);
      counts[picked === a ? 'a' : 'b'] += 1;
    }
    expect(counts).toEqual({ a: 25, b: 75 });
  });
});

describe('failover before the first byte', () => {
  it('moves on after a retryable failure and reports which deployment served', async () => {
    const failing = new ScriptedEngine('failing', [serverError()]);
    const healthy = new ScriptedEngine('healthy', ['ok']);
    const [f, h] = deployments([failing, healthy]);
    // `healthy` holds one request, so idle `failing` is the first choice.
    const held = await h!.startChat(request, signal);
    const started = await startWithFailover([f!, h!], request, signal);
    expect(started.engine.id).toBe('healthy');
    expect([failing.calls, healthy.calls]).toEqual([1, 2]);
    await drain(started.parts);
    await drain(held);
  });

  it('does not retry a request the upstream refused as invalid', async () => {
    const invalid = new ScriptedEngine('a', [new EngineError('invalid_request', 'bad', { status: 400 })]);
    const other = new ScriptedEngine('b', ['ok']);
    const [a, b] = deployments([invalid, other]);
    // Make `a` the first choice: `b` is busy.
    const held = await b!.startChat(request, signal);
    await expect(startWithFailover([a!, b!], request, signal)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(other.calls).toBe(1);
    await drain(held);
  });

  it('gives up after maxAttempts with the last error, saying how many were tried', async () => {
    const engines = [1, 2, 3, 4].map((n) => new ScriptedEngine(`e${n}`, [serverError()]));
    const error = await startWithFailover(deployments(engines, { maxAttempts: 3 }), request, signal).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'upstream_error', message: expect.stringContaining('3 tried') });
    expect(engines.reduce((sum, engine) => sum + engine.calls, 0)).toBe(3);
  });
});

describe('cooldown', () => {
  it('skips a deployment after consecutive failures, and tries it again when the cooldown ends', async () => {
    const time = clock();
    const flaky = new ScriptedEngine('flaky', [serverError(), serverError(), 'ok']);
    const steady = new ScriptedEngine('steady', ['ok']);
    const [f, s] = deployments([flaky, steady], { now: time.now, failuresBeforeCooldown: 2, cooldownMs: 10_000 });
    // `steady` holds one request, so idle `flaky` is the first choice (a weight would still lose the
    // random tie-break now and then); it fails and `steady` serves. Twice: flaky now cools down.
    const held = await s!.startChat(request, signal);
    for (let i = 0; i < 2; i += 1) await drain((await startWithFailover([f!, s!], request, signal)).parts);
    expect(flaky.calls).toBe(2);
    for (let i = 0; i < 3; i += 1) expect((await startWithFailover([f!, s!], request, signal)).engine).toBe(s);
    expect(flaky.calls).toBe(2);
    time.advance(10_001);
    expect((await startWithFailover([f!, s!], request, signal)).engine).toBe(f);
    await drain(held);
  });

  it('honours retry-after: the deployment is skipped while another can serve', async () => {
    const time = clock();
    const limited = new ScriptedEngine('limited', [
      new EngineError('rate_limited', '429', { retryAfterMs: 5_000 }),
      'ok',
    ]);
    const other = new ScriptedEngine('other', ['ok']);
    const [l, o] = deployments([limited, other], { now: time.now });
    // `other` holds one request, so idle `limited` is the first choice whenever it may be tried.
    const held = await o!.startChat(request, signal);
    expect((await startWithFailover([l!, o!], request, signal)).engine).toBe(o);
    expect((await startWithFailover([l!, o!], request, signal)).engine).toBe(o);
    expect(limited.calls).toBe(1);
    time.advance(5_001);
    expect((await startWithFailover([l!, o!], request, signal)).engine).toBe(l);
    await drain(held);
  });

  it('waits for a short retry-after when no other deployment can serve', async () => {
    const limited = new ScriptedEngine('only', [new EngineError('rate_limited', '429', { retryAfterMs: 50 }), 'ok']);
    const started = performance.now();
    const result = await startWithFailover(deployments([limited], { maxRetryWaitMs: 1_000 }), request, signal);
    expect(result.engine.id).toBe('only');
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('answers at once when every deployment is cooling down, saying when to come back', async () => {
    const time = clock();
    const down = new ScriptedEngine('down', [new EngineError('unavailable', 'refused')]);
    const [d] = deployments([down], {
      now: time.now,
      failuresBeforeCooldown: 1,
      cooldownMs: 30_000,
      maxRetryWaitMs: 0,
    });
    await expect(startWithFailover([d!], request, signal)).rejects.toMatchObject({ code: 'unavailable' });
    time.advance(1_000);
    const error = await startWithFailover([d!], request, signal).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'unavailable',
      retryAfterMs: 29_000,
      message: expect.stringContaining('cooling down'),
    });
    expect(down.calls).toBe(1);
  });

  it("a model with one engine (SINGLE_ENGINE_POLICY): one attempt, the engine's own error, never a cooldown", async () => {
    const busy = new EngineError('overloaded', 'queue full', { retryable: true, retryAfterMs: 1_000 });
    const loading = new EngineError('unavailable', 'still loading', { retryAfterMs: 2_000 });
    const crashed = new EngineError('internal', 'crashed');
    const only = new ScriptedEngine('only', [busy, loading, crashed, crashed, crashed, crashed, 'ok']);
    const [d] = deployments([only], SINGLE_ENGINE_POLICY);
    for (const expected of [busy, loading, crashed, crashed, crashed, crashed]) {
      await expect(startWithFailover([d!], request, signal)).rejects.toBe(expected);
    }
    expect((await startWithFailover([d!], request, signal)).engine).toBe(d);
    expect(only.calls).toBe(7);
  });

  it('no deployment at all: unavailable, not a crash', async () => {
    await expect(startWithFailover([], request, signal)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('counts a stream that fails after its first byte against the deployment', async () => {
    const time = clock();
    class MidStreamFailure extends ScriptedEngine {
      override async startChat(): Promise<PartQueue> {
        this.calls += 1;
        return PartQueue.from([
          { type: 'text-delta', choice: 0, text: 'x' },
          { type: 'error', error: new EngineError('upstream_error', 'crashed') },
        ]);
      }
    }
    const crashing = new MidStreamFailure('crashing', ['ok']);
    const [c] = deployments([crashing], { now: time.now, failuresBeforeCooldown: 2, maxRetryWaitMs: 0 });
    for (let i = 0; i < 2; i += 1) await drain((await startWithFailover([c!], request, signal)).parts);
    await expect(startWithFailover([c!], request, signal)).rejects.toMatchObject({ code: 'unavailable' });
    expect(crashing.calls).toBe(2);
  });
});
