import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postChat } from '../helpers/api.js';
import { liveRequest } from '../helpers/live-request.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Browsers: the preflight echoes what the OpenAI JS SDK asks for, and responses expose x-request-id. */

let harness: TestServer;
const ORIGIN = 'http://example.test';
const SDK_HEADERS = ['authorization', 'content-type', 'x-stainless-os', 'x-stainless-lang', 'x-stainless-retry-count'];
const body = { model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 3 };

beforeAll(async () => {
  harness = await startTestServer();
});
afterAll(async () => harness?.close());

function preflight(path: string, requestHeaders: string, method = 'POST'): Promise<Response> {
  // No Authorization: browsers never send credentials on a preflight.
  return fetch(`${harness.server.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': method,
      'access-control-request-headers': requestHeaders,
    },
  });
}

function listed(header: string | null): string[] {
  return (header ?? '')
    .split(',')
    .map((value) => value.trim().toLowerCase())
    .filter(Boolean);
}

describe('CORS preflight', () => {
  it.each(['/v1/inference/chat/completions', '/v1/chat/completions', '/v1/inference/models'])(
    'OPTIONS %s answers 204 without a key',
    async (path) => {
      const response = await preflight(path, SDK_HEADERS.join(', '));
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/example\.test)$/);
      expect(listed(response.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(SDK_HEADERS));
      expect(listed(response.headers.get('access-control-allow-methods'))).toContain('post');
      expect(await response.text()).toBe('');
    },
  );

  it('echoes every requested header, whatever the SDK adds next', async () => {
    const headers = [
      ...SDK_HEADERS,
      'x-stainless-arch',
      'x-stainless-runtime-version',
      'x-stainless-package-version',
      'openai-organization',
      'x-stainless-timeout',
    ];
    const response = await preflight('/v1/inference/chat/completions', headers.join(','));
    expect(response.status).toBe(204);
    expect(listed(response.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(headers));
  });
});

describe('CORS on actual responses', () => {
  it('a completion exposes x-request-id to the page', async () => {
    const response = await postChat(harness, body, { headers: { origin: ORIGIN } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/example\.test)$/);
    expect(listed(response.headers.get('access-control-expose-headers'))).toEqual(
      expect.arrayContaining(['x-request-id', 'retry-after']),
    );
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('an error response carries the same CORS headers (the page can read the error)', async () => {
    const response = await postChat(harness, body, { apiKey: null, headers: { origin: ORIGIN } });
    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/example\.test)$/);
    expect(listed(response.headers.get('access-control-expose-headers'))).toContain('x-request-id');
  });

  it('an event stream carries them too (the hijacked response keeps them)', async () => {
    const stream = liveRequest(`${harness.baseURL}/chat/completions`, {
      apiKey: harness.apiKey,
      body: { ...body, stream: true },
      headers: { origin: ORIGIN },
    });
    const headers = await stream.headers;
    await stream.finished;
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    expect(headers['access-control-allow-origin']).toMatch(/^(\*|http:\/\/example\.test)$/);
    expect(listed(String(headers['access-control-expose-headers'] ?? null))).toContain('x-request-id');
    expect(headers['x-request-id']).toMatch(/^req_/);
  });
});
