import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { startSummary } from '../logging/start-summary.js';

interface ServeOptions {
  config?: string;
  host?: string;
  port?: string;
  model?: string;
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
    .option('--model <path|hf:uri>', 'add an embedded model: a GGUF file or hf:OWNER/REPO/FILE.gguf')
    .option('--model-name <name>', 'public name of --model (default: the file name without .gguf)')
    .option('--threads <n>', 'CPU threads for embedded models (or ORUEL_THREADS; default 1)')
    .option('--sequences <n>', 'parallel sequences for --model (default 2)')
    .option('--log-format <format>', 'json or pretty (or ORUEL_LOG_FORMAT; default: pretty on a terminal, json otherwise)')
    .option('--no-auth', 'accept requests without an API key (local development only)')
    .action(async (options: ServeOptions) => {
      const config = loadConfig({
        configFile: options.config,
        host: options.host,
        port: optionalInteger(options.port),
        model: options.model,
        modelName: options.modelName,
        auth: options.auth === false ? false : undefined,
        threads: optionalInteger(options.threads),
        sequences: optionalInteger(options.sequences),
        logFormat: options.logFormat,
      });
      // Loaded on demand: the server pulls in llama.cpp and Fastify, which `keys` and `usage` do not need.
      const { startServer } = await import('../main.js');
      const server = await startServer(config);
      const stop = async (signal: string) => {
        server.app.log.info({ signal }, 'shutting down: finishing open requests and storing the ledger');
        await server.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
      try {
        await server.ready;
      } catch (error) {
        await server.close().catch(() => undefined);
        throw error;
      }
      const summary = startSummary({ config, url: server.url, metricsUrl: server.metricsUrl, models: server.registry.list(), keySource: server.keySource });
      server.app.log.info(summary.fields, summary.text);
    });
}

function optionalInteger(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  // The schema reports the range; here only "is it a number at all".
  return Number.isInteger(number) ? number : Number.NaN;
}
