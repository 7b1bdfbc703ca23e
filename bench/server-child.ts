/**
 * The server under test, in a process of its own (so its RSS and CPU are its own, and the benchmark's
 * client and direct model do not share its event loop). Started by server-process.ts with fork():
 * argv[2] is a JSON ServerChildConfig; it answers `stats` and `close` messages over IPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe } from 'node:diagnostics_channel';
import { pino } from 'pino';
import { partWaitChannel } from '../src/engines/part-queue.js';
import { configSchema } from '../src/config/schema.js';
import { startServer } from '../src/main.js';
import { statsReply, type ChildMessage, type ParentMessage, type ServerChildConfig } from './server-protocol.js';

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ServerChildConfig;
  const dataDir = mkdtempSync(join(tmpdir(), 'oruel-bench-'));
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0, logLevel: 'silent' },
    database: { url: `sqlite:${join(dataDir, 'oruel.db')}` },
    modelsDir: join(dataDir, 'models'),
    threads: options.threads,
    models: [
      {
        name: options.modelName,
        engine: 'llama-cpp',
        path: options.modelPath,
        sequences: options.sequences,
        contextSize: options.contextSize,
        threads: options.threads,
      },
      ...(options.coldModelName
        ? [
            {
              name: options.coldModelName,
              engine: 'llama-cpp',
              path: options.modelPath,
              sequences: options.sequences,
              contextSize: options.contextSize,
              threads: options.threads,
              reusePrefix: false,
            },
          ]
        : []),
    ],
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), announce: () => undefined });
  await server.ready;
  const { key } = await server.keyStore.create({ name: 'bench' });

  // How long each token waited in the server between being generated (pushed by the engine) and written
  // to the client's socket; the parent reads and resets them with each `stats`.
  let partWaitMs: number[] = [];
  subscribe(partWaitChannel.name, (message) => {
    for (const waited of (message as { waitedMs: number[] }).waitedMs) partWaitMs.push(waited);
  });

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') {
      send(statsReply(message.id, partWaitMs));
      partWaitMs = [];
      return;
    }
    // `close`: the parent waits for the exit. Exit explicitly (native threads may linger);
    // `--cpu-prof` still writes its profile on process.exit().
    void server
      .close()
      .finally(() => rmSync(dataDir, { recursive: true, force: true }))
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
  // The benchmark died: do not outlive it.
  process.on('disconnect', () => process.exit(1));
  send({ type: 'ready', baseURL: `${server.url}/v1/inference`, apiKey: key });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
