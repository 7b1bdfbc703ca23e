import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/storage/database.js';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { selectLedgerRecords } from '../../src/usage/ledger-queries.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { STORIES_MODEL } from '../helpers/paths.js';
import { deleteRedisPrefix, REDIS_TEST_URL, uniqueRedisPrefix } from '../limits/redis-test.js';
import { createTestDatabaseUrl, POSTGRES_TEST_URL, type TestDatabaseUrl } from '../storage/test-databases.js';
import {
  ADMIN_TOKEN,
  admin,
  chat,
  chatStream,
  createKey,
  inPool,
  type ChatAnswer,
  type StreamAnswer,
} from './replica-client.js';
import { ReplicaProcess } from './replica-process.js';
import { TcpProxy } from './tcp-proxy.js';

// Two `oruel serve` processes on one Postgres schema and one Redis prefix: replica A connects to
// Postgres directly, replica B through a proxy the test can cut (a database outage that disturbs no
// one else using the server). An in-process fake upstream serves a model that always fails.

const MODEL = 'stories260K';
const prompt = (content = 'Once upon a time') => ({
  model: MODEL,
  messages: [{ role: 'user', content }],
  max_tokens: 4,
});
const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
];

describe('two replicas on one Postgres and one Redis', () => {
  let dir: string;
  let target: TestDatabaseUrl;
  let redisPrefix: string;
  let proxy: TcpProxy;
  let upstream: FakeUpstream;
  let a: ReplicaProcess;
  let b: ReplicaProcess;
  let database: Database;
  let spillDirB: string;
  let configB: Record<string, unknown>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oruel-replicas-'));
    target = await createTestDatabaseUrl('postgres');
    redisPrefix = uniqueRedisPrefix();
    const postgres = new URL(POSTGRES_TEST_URL);
    proxy = await TcpProxy.start({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    upstream = await FakeUpstream.start();
    upstream.failAlways({ kind: 'status', status: 500, message: 'upstream exploded (test)' });
    spillDirB = join(dir, 'spill-b');
    const replicaConfig = (databaseUrl: string, spillDir: string) => ({
      server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
      database: { url: databaseUrl },
      redis: { url: REDIS_TEST_URL, keyPrefix: redisPrefix },
      admin: { token: ADMIN_TOKEN },
      ledger: { spillDir, spillAfterMs: 1_000, flushTimeoutMs: 2_000 },
      modelsDir: join(dir, 'models'),
      models: [
        { name: MODEL, engine: 'llama-cpp', path: STORIES_MODEL, sequences: 2, contextSize: 512 },
        { name: 'flaky', engine: 'openai', deployments: [{ url: upstream.url, model: 'fake-model' }] },
      ],
    });
    const viaProxy = new URL(target.url);
    viaProxy.port = String(proxy.port);
    configB = replicaConfig(viaProxy.toString(), spillDirB);
    // Started together: both run the migrations against the same fresh schema at once.
    [a, b] = await Promise.all([
      ReplicaProcess.start({ name: 'replica-a', dir, config: replicaConfig(target.url, join(dir, 'spill-a')) }),
      ReplicaProcess.start({ name: 'replica-b', dir, config: configB }),
    ]);
    database = await openDatabase(target.url);
  }, 120_000);

  afterAll(async () => {
    a?.kill();
    b?.kill();
    await database?.close();
    await proxy?.close();
    await upstream?.close();
    await deleteRedisPrefix(redisPrefix);
    await target?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /** The ledger rows of one key, once `count` of them are in the database (rows are written off the request path). */
  async function ledgerRowsOf(keyId: string, count: number, timeoutMs = 30_000): Promise<LedgerRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await selectLedgerRecords(database.db, { keyId });
      if (rows.length >= count || Date.now() > deadline) return rows;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('a key created through replica A works on replica B', async () => {
    const { id, key } = await createKey(a, { name: 'shared' });
    const answer = await chat(b, key, prompt());
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect((await admin<{ id: string }>(b, 'GET', `/keys/${id}`)).json.id).toBe(id);
  });

  it('a limit of 10 requests per minute admits exactly 10 of 15 concurrent requests across both', async () => {
    const { key } = await createKey(a, { name: 'rpm-10', rpm: 10, tpm: 1_000_000 });
    const answers = await Promise.all(
      Array.from({ length: 15 }, (_, index) => chat(index % 2 === 0 ? a : b, key, { ...prompt(), max_tokens: 1 })),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(5);
    for (const refused of answers.filter((answer) => answer.status === 429)) {
      expect((refused.json as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
      for (const name of ['retry-after', 'retry-after-ms', ...RATE_LIMIT_HEADERS])
        expect(refused.headers.get(name), name).not.toBeNull();
      expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    }
    console.info(
      `[replicas] rpm 10, 15 concurrent over A and B: ${statuses.filter((status) => status === 200).length} admitted, ${statuses.filter((status) => status === 429).length} refused`,
    );
  });

  it('revoking a key on A blocks it on B within 5 s', async () => {
    const { id, key } = await createKey(a, { name: 'to-revoke' });
    expect((await chat(b, key, prompt())).status).toBe(200);
    const revokedAt = performance.now();
    expect((await admin(a, 'DELETE', `/keys/${id}`)).status).toBe(200);
    let status = 200;
    let blockedAfter = 0;
    while (status !== 401 && performance.now() - revokedAt < 10_000) {
      status = (await chat(b, key, { ...prompt(), max_tokens: 1 })).status;
      blockedAfter = performance.now() - revokedAt;
    }
    expect(status).toBe(401);
    expect(blockedAfter).toBeLessThan(5_000);
    console.info(`[replicas] revocation on A took effect on B after ${Math.round(blockedAfter)} ms`);
  });

  it('the openai SDK on B waits the retry-after-ms of a limit reached through A and B, then succeeds', async () => {
    const { key } = await createKey(a, { name: 'sdk', rpm: 20, tpm: 1_000_000 });
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, index) => chat(index % 2 === 0 ? a : b, key, { ...prompt(), max_tokens: 1 })),
    );
    expect(burst.every((answer) => answer.status === 200)).toBe(true);
    const attempts: Array<{ sentAt: number; answeredAt: number; status: number; retryAfterMs: string | null }> = [];
    const client = new OpenAI({
      baseURL: b.baseURL,
      apiKey: key,
      maxRetries: 2,
      fetch: async (input, init) => {
        const sentAt = performance.now();
        const response = await fetch(input, init);
        attempts.push({
          sentAt,
          answeredAt: performance.now(),
          status: response.status,
          retryAfterMs: response.headers.get('retry-after-ms'),
        });
        return response;
      },
    });
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 1,
    });
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(attempts.map((attempt) => attempt.status)).toEqual([429, 200]);
    const asked = Number(attempts[0]!.retryAfterMs);
    const waited = attempts[1]!.sentAt - attempts[0]!.answeredAt;
    expect(waited).toBeGreaterThanOrEqual(asked - 5);
    expect(waited).toBeLessThan(asked + 500);
    console.info(`[replicas] SDK retry: asked to wait ${asked} ms, waited ${Math.round(waited)} ms, then 200`);
  });

  it('after 200 mixed requests over both, the ledger has exactly one row per request with its outcome and tokens', async () => {
    const { id, key } = await createKey(a, { name: 'mixed' });
    type Sent = { kind: string; answer: ChatAnswer | StreamAnswer };
    const kinds: Array<(replica: ReplicaProcess) => Promise<Sent>> = [
      async (replica) => ({ kind: 'completed', answer: await chat(replica, key, prompt()) }),
      async (replica) => ({ kind: 'streamed', answer: await chatStream(replica, key, prompt(), false) }),
      async (replica) => ({
        kind: 'aborted',
        answer: await chatStream(replica, key, { ...prompt('Tell me a long story'), max_tokens: 200 }, true),
      }),
      async (replica) => ({
        kind: 'unknown-model',
        answer: await chat(replica, key, { ...prompt(), model: 'no-such-model' }),
      }),
      async (replica) => ({
        kind: 'upstream-failure',
        answer: await chat(replica, key, { ...prompt(), model: 'flaky' }),
      }),
      async (replica) => ({ kind: 'invalid', answer: await chat(replica, key, { model: MODEL, messages: [] }) }),
    ];
    const tasks = Array.from(
      { length: 200 },
      (_, index) => () => kinds[index % kinds.length]!(index % 2 === 0 ? a : b),
    );
    const sent = await inPool(tasks, 6);

    const rows = await ledgerRowsOf(id, 200);
    expect(rows).toHaveLength(200);
    const byId = new Map(rows.map((row) => [row.requestId, row]));
    expect(byId.size).toBe(200);
    const outcomes: Record<string, number> = {};
    for (const { kind, answer } of sent) {
      expect(answer.requestId, kind).toMatch(/^req_/);
      const row = byId.get(answer.requestId!);
      expect(row, `${kind} ${answer.requestId}`).toBeDefined();
      expectRowMatches(kind, answer, row!);
      outcomes[`${kind}:${row!.outcome}`] = (outcomes[`${kind}:${row!.outcome}`] ?? 0) + 1;
    }
    console.info(`[replicas] 200 mixed requests, ledger rows by kind and outcome: ${JSON.stringify(outcomes)}`);
  });

  it('a database outage on B fails no request and loses no ledger row', async () => {
    const { id, key } = await createKey(a, { name: 'outage' });
    const requestIds: string[] = [];
    const warm = await chat(b, key, prompt());
    expect(warm.status).toBe(200);
    requestIds.push(warm.requestId!);

    proxy.pause();
    const statuses: number[] = [];
    const outageStarted = performance.now();
    while (performance.now() - outageStarted < 3_500) {
      const answers = await Promise.all([chat(b, key, prompt()), chatStream(b, key, prompt(), false)]);
      for (const answer of answers) {
        statuses.push(answer.status);
        requestIds.push(answer.requestId!);
      }
    }
    const spilled = (await readdir(spillDirB)).filter((name) => name.endsWith('.jsonl'));
    proxy.resume();
    const resumedAt = performance.now();

    expect(
      statuses.every((status) => status === 200),
      JSON.stringify(statuses),
    ).toBe(true);
    expect(spilled.length).toBeGreaterThan(0);
    const rows = await ledgerRowsOf(id, requestIds.length);
    const storedAfter = performance.now() - resumedAt;
    expect(rows.map((row) => row.requestId).sort()).toEqual([...requestIds].sort());
    expect(rows.every((row) => row.outcome === 'completed')).toBe(true);
    console.info(
      `[replicas] DB outage on B: ${statuses.length} requests during 3.5 s, all 200; rows spilled to ${spilled.length} file(s); ` +
        `all ${rows.length} rows stored ${Math.round(storedAfter)} ms after the database came back`,
    );
  });

  it('SIGTERM with the database down saves the queued rows to disk; the next start stores them', async () => {
    const { id, key } = await createKey(a, { name: 'shutdown' });
    expect((await chat(b, key, prompt())).status).toBe(200);
    await ledgerRowsOf(id, 1);
    proxy.pause();
    const answers = await Promise.all(Array.from({ length: 6 }, () => chat(b, key, prompt())));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(await b.stop()).toBe(0);
    expect((await readdir(spillDirB)).filter((name) => name.endsWith('.jsonl')).length).toBeGreaterThan(0);
    proxy.resume();
    expect(await selectLedgerRecords(database.db, { keyId: id })).toHaveLength(1);

    b = await ReplicaProcess.start({ name: 'replica-b-again', dir, config: configB });
    const rows = await ledgerRowsOf(id, 7);
    expect(rows.map((row) => row.requestId).sort()).toEqual(
      expect.arrayContaining(answers.map((answer) => answer.requestId!)),
    );
    expect(rows).toHaveLength(7);
    expect((await readdir(spillDirB)).filter((name) => name.endsWith('.jsonl'))).toEqual([]);
  });
});

/** What the client saw, against the row the ledger kept. */
function expectRowMatches(kind: string, answer: ChatAnswer | StreamAnswer, row: LedgerRecord): void {
  const label = `${kind} ${row.requestId}`;
  switch (kind) {
    case 'completed': {
      const usage = (answer as ChatAnswer).json?.usage as { prompt_tokens: number; completion_tokens: number };
      expect(row, label).toMatchObject({
        outcome: 'completed',
        status: 200,
        stream: false,
        promptTokens: usage.prompt_tokens,
        completionTokens: usage.completion_tokens,
        usageSource: 'engine',
      });
      return;
    }
    case 'streamed': {
      const stream = answer as StreamAnswer;
      expect(stream.sawDone, label).toBe(true);
      expect(row, label).toMatchObject({
        outcome: 'completed',
        status: 200,
        stream: true,
        promptTokens: stream.usage!.prompt_tokens,
        completionTokens: stream.usage!.completion_tokens,
      });
      return;
    }
    case 'aborted': {
      const stream = answer as StreamAnswer;
      if (!stream.aborted) {
        // The whole answer arrived in the first read: it completed before the client could leave.
        expect(row, label).toMatchObject({ outcome: 'completed', completionTokens: stream.usage!.completion_tokens });
        return;
      }
      expect(row, label).toMatchObject({ outcome: 'cancelled', stream: true });
      expect(row.completionTokens, label).toBeGreaterThanOrEqual(stream.contentChunks);
      expect(row.completionTokens, label).toBeLessThan(200);
      return;
    }
    case 'unknown-model':
      expect(answer.status).toBe(404);
      expect(row, label).toMatchObject({
        outcome: 'error',
        status: 404,
        errorCode: 'model_not_found',
        promptTokens: 0,
        completionTokens: 0,
        model: 'no-such-model',
      });
      return;
    case 'upstream-failure':
      expect(answer.status).toBeGreaterThanOrEqual(500);
      expect(row, label).toMatchObject({
        outcome: 'error',
        status: answer.status,
        promptTokens: 0,
        completionTokens: 0,
        model: 'flaky',
      });
      return;
    case 'invalid':
      expect(answer.status).toBe(400);
      expect(row, label).toMatchObject({ outcome: 'error', status: 400, promptTokens: 0, completionTokens: 0 });
      return;
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}
