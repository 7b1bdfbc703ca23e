import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { selectLedgerRecords } from '../../src/usage/ledger-queries.js';
import { FakeUpstream } from '../fakes/fake-upstream.js';
import { STORIES_MODEL } from '../helpers/paths.js';
import { deleteRedisPrefix, REDIS_TEST_URL, uniqueRedisPrefix } from '../limits/redis-test.js';
import { contentOf, readSse, type SseEvent } from '../resumable/sse-client.js';
import { createTestDatabaseUrl, type TestDatabaseUrl } from '../storage/test-databases.js';
import { ADMIN_TOKEN, createKey } from './replica-client.js';
import { ReplicaProcess } from './replica-process.js';

// Two `oruel serve` processes on one Postgres schema and one Redis prefix: a resumable stream started on
// one replica, its socket dropped at a random point, resumed on the other (events through Redis streams).

const MODEL = 'stories260K';
const STREAMS = 100;
const MAX_TOKENS = 40;
const PROMPTS = ['Once upon a time', 'The little dog', 'Lily and Tom went', 'A big red ball'];

describe('resumable streams across two replicas (Redis)', () => {
  let dir: string;
  let target: TestDatabaseUrl;
  let redisPrefix: string;
  let a: ReplicaProcess;
  let b: ReplicaProcess;
  let database: Database;
  let key: string;
  let keyId: string;
  let slow: FakeUpstream;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oruel-resume-'));
    target = await createTestDatabaseUrl('postgres');
    redisPrefix = uniqueRedisPrefix();
    slow = await FakeUpstream.start({ syntheticTokens: 300, tokenDelayMs: 20 });
    const config = (name: string) => ({
      server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
      database: { url: target.url },
      redis: { url: REDIS_TEST_URL, keyPrefix: redisPrefix },
      admin: { token: ADMIN_TOKEN },
      ledger: { spillDir: join(dir, `spill-${name}`) },
      resumableStreams: { graceMs: 2_000 },
      modelsDir: join(dir, 'models'),
      models: [
        { name: MODEL, engine: 'llama-cpp', path: STORIES_MODEL, sequences: 2, contextSize: 512 },
        { name: 'slow', engine: 'openai', deployments: [{ url: slow.url, model: 'slow-model' }] },
      ],
    });
    [a, b] = await Promise.all([
      ReplicaProcess.start({ name: 'resume-a', dir, config: config('a') }),
      ReplicaProcess.start({ name: 'resume-b', dir, config: config('b') }),
    ]);
    database = await openDatabase(target.url);
    ({ key, id: keyId } = await createKey(a, { name: 'resumer' }));
  }, 120_000);

  afterAll(async () => {
    a?.kill();
    b?.kill();
    await database?.close();
    await slow?.close();
    await deleteRedisPrefix(redisPrefix);
    await target?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const auth = () => ({ authorization: `Bearer ${key}` });
  const chatBody = (prompt: string) => ({
    model: MODEL,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: MAX_TOKENS,
    temperature: 0,
    stream: true,
  });

  it(`${STREAMS} streams dropped on one replica at random points and resumed on the other equal uninterrupted runs`, async () => {
    const reference = new Map<string, string>();
    for (const prompt of PROMPTS) {
      const plain = await readSse(`${a.baseURL}/chat/completions`, {
        method: 'POST',
        headers: auth(),
        body: chatBody(prompt),
      });
      reference.set(prompt, contentOf(plain.events));
    }
    let drops = 0;
    let crossReplica = 0;
    let exact = 0;
    const requestIds: string[] = [];
    const runOne = async (index: number) => {
      const prompt = PROMPTS[index % PROMPTS.length]!;
      const [owner, other] = index % 2 === 0 ? [a, b] : [b, a];
      const dropAfter = Math.floor(Math.random() * (MAX_TOKENS + 3));
      const first = await readSse(`${owner.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { ...auth(), 'oruel-resumable': 'true' },
        body: chatBody(prompt),
        dropAfter,
      });
      expect(first.status).toBe(200);
      requestIds.push(String(first.headers['x-request-id']));
      let events: SseEvent[] = first.events;
      if (first.dropped) {
        drops += 1;
        crossReplica += 1;
        const lastId = events.at(-1)?.id;
        const rest = await readSse(
          `${other.baseURL}/chat/completions/${String(first.headers['oruel-stream-id'])}/stream`,
          {
            method: 'GET',
            headers: {
              ...auth(),
              ...(lastId === undefined || lastId === null ? {} : { 'last-event-id': String(lastId) }),
            },
          },
        );
        expect(rest.status, rest.text).toBe(200);
        events = [...events, ...rest.events];
      }
      expect(events.map((event) => event.id)).toEqual(events.map((_, position) => position + 1));
      expect(events.at(-1)!.data).toBe('[DONE]');
      if (contentOf(events) === reference.get(prompt)) exact += 1;
    };
    const queue = Array.from({ length: STREAMS }, (_, index) => index);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) await runOne(index);
      }),
    );
    console.info(
      `[replicas] resumable: ${STREAMS} streams, ${drops} dropped, ${crossReplica} resumed on the other replica, ${exact} exact matches`,
    );
    expect(drops).toBeGreaterThan(STREAMS / 2);
    expect(exact).toBe(STREAMS);
    // Usage counted once: one completed row per stream, on the replica that generated it.
    const deadline = Date.now() + 30_000;
    let rows = await selectLedgerRecords(database.db, { keyId });
    while (requestIds.some((id) => !rows.some((row) => row.requestId === id)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      rows = await selectLedgerRecords(database.db, { keyId });
    }
    for (const id of requestIds) {
      const mine = rows.filter((row) => row.requestId === id);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.outcome).toBe('completed');
    }
  }, 300_000);

  it('a reader on the other replica keeps the owner generating; when it leaves too, the window cancels the work and both replicas answer 404', async () => {
    const body = { model: 'slow', messages: [{ role: 'user', content: 'hi' }], stream: true };
    const first = await readSse(`${a.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { ...auth(), 'oruel-resumable': 'true' },
      body,
      dropAfter: 2,
    });
    const id = String(first.headers['oruel-stream-id']);
    // 300 tokens at 20 ms: about 6 s. The reader on B stays 3 s (longer than the 2 s window), then leaves.
    const started = Date.now();
    const onB = await readSse(`${b.baseURL}/chat/completions/${id}/stream`, {
      method: 'GET',
      headers: { ...auth(), 'last-event-id': '2' },
      dropAfter: 150,
    });
    const readOnB = onB.events.length;
    expect(onB.events[0]!.id).toBe(3);
    expect(Date.now() - started).toBeGreaterThan(2_000);
    const requestId = String(first.headers['x-request-id']);
    const deadline = Date.now() + 30_000;
    let rows = await selectLedgerRecords(database.db, { keyId });
    while (!rows.some((row) => row.requestId === requestId) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      rows = await selectLedgerRecords(database.db, { keyId });
    }
    const row = rows.find((candidate) => candidate.requestId === requestId)!;
    expect(row.outcome).toBe('cancelled');
    expect(row.errorCode).toBe('resume_window_expired');
    expect(row.completionTokens).toBeGreaterThan(0);
    // Cancelled, not finished: the upstream request was aborted before its 300 tokens.
    expect(slow.requests.at(-1)!.aborted).toBe(true);
    expect(readOnB).toBeLessThan(300);
    for (const replica of [a, b]) {
      const late = await readSse(`${replica.baseURL}/chat/completions/${id}/stream`, {
        method: 'GET',
        headers: { ...auth(), 'last-event-id': '2' },
      });
      expect(late.status).toBe(404);
    }
    console.info(
      `[replicas] resumable window: reader on B for ${readOnB} events kept A generating past the 2 s window; then cancelled (${row.completionTokens} tokens), 404 on both`,
    );
  }, 60_000);
});
