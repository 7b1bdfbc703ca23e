import { endStartupHeapHold } from './startup-heap.js';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/index.js';
import { startSummary } from './start-summary.js';

interface ServeOptions {
  config?: string;
  host?: string;
  port?: string;
  model?: string[];
  modelName?: string;
  auth: boolean;
  threads?: string;
  sequences?: string;
  logFormat?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve the OpenAI-compatible API (embedded llama.cpp models and upstream engines).')
    .option('--config <file>', 'YAML config file (or ORUEL_CONFIG)')
    .option('--host <host>', 'address to listen on (or ORUEL_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (or ORUEL_PORT; default 8080)')
    .option(
      '--model <path|hf:uri>',
      'add an embedded model: a GGUF file or hf:OWNER/REPO/FILE.gguf (repeat for several)',
      collect,
    )
    .option('--model-name <name>', 'public name of --model (default: the file name without .gguf)')
    .option('--threads <n>', 'CPU threads for embedded models (or ORUEL_THREADS; default 1)')
    .option('--sequences <n>', 'parallel sequences for --model (default 2)')
    .option(
      '--log-format <format>',
      'json or pretty (or ORUEL_LOG_FORMAT; default: pretty on a terminal, json otherwise)',
    )
    .option('--no-auth', 'accept requests without an API key (local development only)')
    .action(async (options: ServeOptions) => {
      const config = loadConfig({
        configFile: options.config,
        host: options.host,
        port: optionalInteger(options.port, '--port', 0, 65535),
        model: options.model,
        modelName: options.modelName,
        auth: options.auth === false ? false : undefined,
        threads: optionalInteger(options.threads, '--threads', 1),
        sequences: optionalInteger(options.sequences, '--sequences', 1, 64),
        logFormat: options.logFormat,
      });
      // Loaded on demand: the server pulls in llama.cpp and Fastify, which `keys` and `usage` do not need.
      const { startServer } = await import('../main.js');
      const server = await startServer(config);
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals += 1;
        if (signals === 1) {
          const drainMs = config.server.drainTimeoutMs;
          server.app.log.info(
            { signal, drainMs },
            'shutting down: new requests get 503, running ones may finish, then the ledger is stored',
          );
          server.close().then(
            () => process.exit(0),
            (error: unknown) => {
              server.app.log.error({ err: error }, 'shutdown failed');
              process.exit(1);
            },
          );
        } else if (signals === 2) {
          server.app.log.warn(
            { signal },
            'second signal: ending running requests now; the ledger is still stored (a third signal exits at once)',
          );
          server.hurry();
        } else {
          // The operator's last word: nothing more is waited for.
          process.exit(1);
        }
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        await server.ready;
      } catch (error) {
        await server.close().catch(() => undefined);
        throw error;
      }
      const summary = startSummary({
        config,
        url: server.url,
        metricsUrl: server.metricsUrl,
        models: server.registry.list(),
        keySource: server.keySource,
      });
      server.app.log.info(summary.fields, summary.text);
      endStartupHeapHold();
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A flag's number, checked here so the message names the flag the user typed. */
function optionalInteger(
  value: string | undefined,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(
      `${flag} must be a whole number ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}, got "${value}".`,
    );
  }
  return number;
}
