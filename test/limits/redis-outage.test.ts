import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, startAdminTestServer, type AdminTestServer } from '../admin/admin-test-server.js';
import { TcpProxy } from '../replicas/tcp-proxy.js';
import { REDIS_TEST_URL } from './redis-test.js';

// Redis reached through a proxy the test can cut: other test runs keep their Redis.
describe('a Redis outage', () => {
  let proxy: TcpProxy;
  let harness: AdminTestServer;
  beforeAll(async () => {
    const redis = new URL(REDIS_TEST_URL);
    proxy = await TcpProxy.start({ host: redis.hostname, port: Number(redis.port || 6379) });
    harness = await startAdminTestServer({ redis: true, redisUrl: `redis://127.0.0.1:${proxy.port}` });
  });
  afterAll(async () => {
    proxy.resume();
    await harness?.close();
    await proxy?.close();
  });

  it('admits requests without limits (fail open, at once) and enforces them again once Redis is back', async () => {
    const { key } = await harness.createKey({ name: 'limited', rpm: 2 });
    expect((await chat(harness.baseURL, key)).status).toBe(200);
    expect((await chat(harness.baseURL, key)).status).toBe(200);
    expect((await chat(harness.baseURL, key)).status).toBe(429);

    proxy.pause();
    const started = performance.now();
    const during = await chat(harness.baseURL, key);
    const tookMs = performance.now() - started;
    expect(during.status).toBe(200);
    expect(during.headers.get('x-ratelimit-limit-requests')).toBeNull();
    expect(tookMs).toBeLessThan(1_500);

    proxy.resume();
    let after = await chat(harness.baseURL, key);
    for (let attempt = 0; attempt < 50 && after.status === 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await chat(harness.baseURL, key);
    }
    expect(after.status).toBe(429);
    console.info(
      `[redis outage] request during the outage answered in ${Math.round(tookMs)} ms without limits; limits enforced again after reconnection`,
    );
  });
});
