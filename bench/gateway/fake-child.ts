/**
 * The fake upstreams of the gateway benchmark, in a process of their own (so neither the client nor
 * the gateway shares their event loop). argv[2]: FakeChildConfig as JSON. Replies with their URLs.
 */
import { FakeUpstream } from '../../test/fakes/fake-upstream.js';
import { failChild, serveChild } from './ipc.js';

export interface FakeChildConfig {
  tokens: number;
  slowTokenDelayMs: number;
}

export interface FakeUrls {
  /** Every token at once, in one write. */
  instant: string;
  /** One token every `slowTokenDelayMs`. */
  slow: string;
  /** The first token at once, then silence for a minute: streams that stay open. */
  idle: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as FakeChildConfig;
  const common = { syntheticTokens: config.tokens, record: false };
  const instant = await FakeUpstream.start({ ...common, tokenDelayMs: 0 });
  const slow = await FakeUpstream.start({ ...common, tokenDelayMs: config.slowTokenDelayMs });
  const idle = await FakeUpstream.start({ ...common, tokenDelayMs: 60_000, firstTokenDelayMs: 0 });
  serveChild<FakeUrls>({ instant: instant.url, slow: slow.url, idle: idle.url }, async () => {
    await Promise.all([instant.close(), slow.close(), idle.close()]);
  });
}

main().catch(failChild);
