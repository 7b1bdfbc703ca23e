import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/api-key.js';
import { configSchema } from '../../src/config/schema.js';
import { createTestDatabaseUrl, DIALECTS, type TestDatabaseUrl } from '../storage/test-databases.js';
import { ADMIN_TOKEN, chat, startAdminTestServer, type AdminTestServer } from './admin-test-server.js';

interface KeyJson {
  object: string;
  id: string;
  key?: string;
  name: string;
  prefix: string;
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  maxConcurrent: number | null;
  budget: { tokens: number; period: string } | null;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  updatedAt: string | null;
}

async function adminFetch(
  harness: AdminTestServer,
  path: string,
  authorization: string | null,
): Promise<{ status: number; json: { error: { code: string; message: string; type: string } } }> {
  const response = await fetch(`${harness.origin}/v1/admin${path}`, {
    headers: authorization === null ? {} : { authorization },
  });
  return { status: response.status, json: (await response.json()) as never };
}

describe('admin API authentication', () => {
  let harness: AdminTestServer;
  let disabled: AdminTestServer;
  beforeAll(async () => {
    harness = await startAdminTestServer();
    disabled = await startAdminTestServer({ adminToken: null });
  });
  afterAll(async () => {
    await harness.close();
    await disabled.close();
  });

  it('without a configured token the admin API is off: 404 admin_api_disabled, saying how to turn it on', async () => {
    const response = await adminFetch(disabled, '/keys', `Bearer ${ADMIN_TOKEN}`);
    expect(response.status).toBe(404);
    expect(response.json.error).toMatchObject({
      code: 'admin_api_disabled',
      type: 'invalid_request_error',
      message: expect.stringContaining('ORUEL_ADMIN_TOKEN'),
    });
  });

  it('refuses a missing or wrong token, and API keys, with 401 invalid_admin_token', async () => {
    const { key } = await harness.createKey({ name: 'not-admin' });
    for (const authorization of [
      null,
      'Bearer',
      `Bearer ${ADMIN_TOKEN}x`,
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
      `Basic ${ADMIN_TOKEN}`,
      `Bearer ${key}`,
    ]) {
      const response = await adminFetch(harness, '/keys', authorization);
      expect(response.status, String(authorization)).toBe(401);
      expect(response.json.error.code).toBe('invalid_admin_token');
    }
    expect((await adminFetch(harness, '/keys', `Bearer ${key}`)).json.error.message).toMatch(
      /API keys cannot use the admin API/,
    );
    expect((await adminFetch(harness, '/keys', `bearer ${ADMIN_TOKEN}`)).status).toBe(200);
  });

  it('the admin token cannot be an API key nor short', () => {
    const parse = (token: string) => configSchema.safeParse({ modelsDir: '/tmp', admin: { token } });
    expect(parse('oruel_0123456789abcdefghijklmnopqrstuvwxyz').success).toBe(false);
    expect(parse('short').success).toBe(false);
    expect(parse(ADMIN_TOKEN).success).toBe(true);
  });
});

describe.each(DIALECTS)('admin API on %s', (dialect) => {
  let target: TestDatabaseUrl;
  let harness: AdminTestServer;
  beforeAll(async () => {
    target = await createTestDatabaseUrl(dialect);
    harness = await startAdminTestServer({ databaseUrl: target.url });
  });
  afterAll(async () => {
    await harness.close();
    await target.cleanup();
  });

  it('creates a key: 201 with its id, the key (once) and every setting', async () => {
    const body = {
      name: 'team-a',
      models: ['stories260K'],
      rpm: 60,
      tpm: 10_000,
      maxConcurrent: 3,
      budget: { tokens: 1_000_000, period: 'month' },
      expiresAt: '2099-01-01T00:00:00Z',
    };
    const created = await harness.admin<KeyJson>('POST', '/keys', body);
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      object: 'api_key',
      id: expect.stringMatching(/^key_\w{16}$/),
      key: expect.stringMatching(/^oruel_\w{40}$/),
      name: 'team-a',
      prefix: created.json.key!.slice(0, 10),
      models: ['stories260K'],
      rpm: 60,
      tpm: 10_000,
      maxConcurrent: 3,
      budget: { tokens: 1_000_000, period: 'month' },
      expiresAt: '2099-01-01T00:00:00.000Z',
      revokedAt: null,
      createdAt: expect.any(String),
      updatedAt: null,
    });
    expect((await chat(harness.baseURL, created.json.key!)).status).toBe(200);

    const fetched = await harness.admin<KeyJson>('GET', `/keys/${created.json.id}`);
    expect(fetched.json).toEqual({ ...created.json, key: undefined });
    expect(fetched.json).not.toHaveProperty('key');
    const listed = await harness.admin<{ object: string; data: KeyJson[] }>('GET', '/keys');
    expect(listed.json.object).toBe('list');
    expect(listed.json.data.find((key) => key.id === created.json.id)).toEqual(fetched.json);
    const everything = JSON.stringify(listed.json);
    expect(everything).not.toContain(created.json.key!);
    expect(everything).not.toContain(hashApiKey(created.json.key!));
  });

  it.each([
    [{}, 'name', /expected string/],
    [{ name: 'x', rpm: 0 }, 'rpm', /rpm must be a whole number/],
    [{ name: 'x', tpm: 'many' }, 'tpm', /expected number/],
    [{ name: 'x', rmp: 5 }, null, /unknown field\(s\) rmp/],
    [{ name: 'x', budget: { tokens: 10, period: 'year' } }, 'budget.period', /day.*week.*month/],
    [{ name: 'x', budget: { tokens: 0, period: 'day' } }, 'budget', /budget.tokens/],
    [{ name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt', /not in the future/],
    [{ name: 'x', expiresAt: 'tomorrow' }, 'expiresAt', /Invalid/],
    [{ name: 'x', models: [] }, 'models', /model list is empty/],
  ])('refuses %j with 400 naming %s', async (body, param, message) => {
    const response = await harness.admin<{
      error: { param: string | null; message: string; code: string | null; type: string };
    }>('POST', '/keys', body);
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(response.json.error.message).toMatch(message);
  });

  it('updates settings, which the next request obeys; null clears; unknown ids are 404', async () => {
    const { id, key } = await harness.createKey({ name: 'patch-me', models: ['other'] });
    expect((await chat(harness.baseURL, key)).status).toBe(404);
    const patched = await harness.admin<KeyJson>('PATCH', `/keys/${id}`, { name: 'patched', models: null, rpm: 1 });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ id, name: 'patched', models: null, rpm: 1, updatedAt: expect.any(String) });
    expect((await chat(harness.baseURL, key)).status).toBe(200);
    expect((await chat(harness.baseURL, key)).status).toBe(429);
    expect((await harness.admin<KeyJson>('PATCH', `/keys/${id}`, { rpm: null })).json.rpm).toBeNull();
    expect((await chat(harness.baseURL, key)).status).toBe(200);

    const missing = await harness.admin<{ error: { code: string } }>('PATCH', '/keys/key_nope', { name: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('key_not_found');
    expect((await harness.admin('GET', '/keys/key_nope')).status).toBe(404);
    expect((await harness.admin('PATCH', `/keys/${id}`, { rpm: -1 })).status).toBe(400);
  });

  it('revokes with DELETE: the key stops at once; revoking again is fine; unknown ids are 404', async () => {
    const { id, key } = await harness.createKey({ name: 'revoke-me' });
    expect((await chat(harness.baseURL, key)).status).toBe(200);
    const revoked = await harness.admin<KeyJson>('DELETE', `/keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).toEqual(expect.any(String));
    expect((await chat(harness.baseURL, key)).status).toBe(401);
    expect((await harness.admin<KeyJson>('DELETE', `/keys/${id}`)).json.revokedAt).toBe(revoked.json.revokedAt);
    expect((await harness.admin('DELETE', '/keys/key_nope')).status).toBe(404);
  });

  it('rotates: a new secret for the same id and settings; the old one stops working; a revoked key cannot be rotated', async () => {
    const { id, key: oldKey } = await harness.createKey({ name: 'rotate-me', rpm: 50 });
    expect((await chat(harness.baseURL, oldKey)).status).toBe(200);
    const rotated = await harness.admin<KeyJson>('POST', `/keys/${id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.json).toMatchObject({ id, name: 'rotate-me', rpm: 50, key: expect.stringMatching(/^oruel_/) });
    expect(rotated.json.key).not.toBe(oldKey);
    expect(rotated.json.prefix).toBe(rotated.json.key!.slice(0, 10));
    expect((await chat(harness.baseURL, oldKey)).status).toBe(401);
    expect((await chat(harness.baseURL, rotated.json.key!)).status).toBe(200);

    await harness.admin('DELETE', `/keys/${id}`);
    const refused = await harness.admin<{ error: { code: string } }>('POST', `/keys/${id}/rotate`);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('key_revoked');
    expect((await harness.admin('POST', '/keys/key_nope/rotate')).status).toBe(404);
  });

  it('reports usage by key, model and time range as JSON, CSV or a table', async () => {
    const { id, key } = await harness.createKey({ name: 'usage' });
    const before = new Date(Date.now() - 1_000).toISOString();
    const answers = [
      await chat(harness.baseURL, key),
      await chat(harness.baseURL, key),
      await chat(harness.baseURL, key, { model: 'unknown-model' }),
    ];
    await harness.server.ledger.flush();
    const completion = answers[0]!.json as { usage: { prompt_tokens: number; completion_tokens: number } };

    const report = await harness.admin<{
      object: string;
      keyId: string;
      since: string;
      until: null;
      data: Array<Record<string, unknown>>;
    }>('GET', `/usage?keyId=${id}&since=${encodeURIComponent(before)}`);
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ object: 'usage_report', keyId: id, since: before, until: null });
    expect(report.json.data).toEqual([
      {
        keyId: id,
        model: 'stories260K',
        requests: 2,
        promptTokens: 2 * completion.usage.prompt_tokens,
        completionTokens: expect.any(Number),
        totalTokens: expect.any(Number),
        completed: 2,
        cancelled: 0,
        errors: 0,
      },
      {
        keyId: id,
        model: 'unknown-model',
        requests: 1,
        promptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        completed: 0,
        cancelled: 0,
        errors: 1,
      },
    ]);
    const byModel = await harness.admin<{ data: unknown[] }>('GET', `/usage?keyId=${id}&model=unknown-model`);
    expect(byModel.json.data).toHaveLength(1);
    const future = await harness.admin<{ data: unknown[] }>('GET', `/usage?keyId=${id}&since=2999-01-01`);
    expect(future.json.data).toEqual([]);

    const csv = await fetch(`${harness.origin}/v1/admin/usage?keyId=${id}&format=csv`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('key,model,requests,prompt_tokens,completion_tokens,total_tokens,completed,cancelled,errors');
    expect(lines[1]).toMatch(new RegExp(`^${id},stories260K,2,`));
    const table = await fetch(`${harness.origin}/v1/admin/usage?keyId=${id}&format=table`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(table.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await table.text()).toMatch(/^key\s+model\s+requests/);
  });

  it('refuses bad report queries with 400 naming the parameter', async () => {
    for (const [query, param] of [
      ['since=yesterday', 'since'],
      ['format=xml', 'format'],
      ['since=2025-02-01&until=2025-01-01', 'since'],
    ] as const) {
      const response = await harness.admin<{ error: { param: string } }>('GET', `/usage?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.json.error.param).toBe(param);
    }
  });

  it('says what a date must look like, as the CLI does', async () => {
    const response = await harness.admin<{ error: { message: string; param: string } }>(
      'GET',
      '/usage?since=yesterday',
    );
    expect(response.status).toBe(400);
    expect(response.json.error.message).toBe(
      `Invalid 'since': must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z (a date alone is midnight UTC), got "yesterday".`,
    );
  });
});
