import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import {
  formatBytes,
  isHfUri,
  listLocalModels,
  listPartialDownloads,
  type LocalModel,
  resolveModelPath,
} from '../models/index.js';
import { OperatorError } from '../errors/index.js';

export interface ModelsCommandOptions {
  /** Hugging Face token used when `--token` is not given (e.g. HF_TOKEN, read by the caller). */
  token?: string;
}

interface PullModelOptions {
  modelsDir: string;
  hfEndpoint: string;
  token?: string;
  signal?: AbortSignal;
  /** Where the progress goes; default process.stderr. */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
}

interface CommandFlags {
  config?: string;
  token?: string;
}

export function registerModelsCommand(program: Command, defaults: ModelsCommandOptions = {}): void {
  const models = program
    .command('models')
    .description('Download model files from Hugging Face and list the downloaded ones.');
  models
    .command('pull')
    .description('Download a model into the models directory (resuming a partial download); prints its local path.')
    .argument('<uri>', 'hf:OWNER/REPO[@REVISION]/PATH/TO/FILE.gguf')
    .option('--config <file>', 'configuration file (YAML) giving modelsDir and hfEndpoint')
    .option('--token <token>', 'Hugging Face access token, for private or gated repositories')
    .action(async (uri: string, flags: CommandFlags) => {
      const config = loadConfig({ configFile: flags.config });
      const token = flags.token ?? defaults.token ?? config.hfToken ?? undefined;
      const path = await pullWithInterrupt(uri, { modelsDir: config.modelsDir, hfEndpoint: config.hfEndpoint, token });
      process.stdout.write(`${path}\n`);
    });
  models
    .command('list')
    .description('List the downloaded models (URI, size, path) and any incomplete downloads.')
    .option('--config <file>', 'configuration file (YAML) giving modelsDir')
    .action(async (flags: CommandFlags) => {
      const config = loadConfig({ configFile: flags.config });
      process.stdout.write(await listModelsReport(config.modelsDir));
    });
}

/** Downloads an `hf:` model (or reuses a finished download) with a progress display; returns its path. */
async function pullModel(uri: string, options: PullModelOptions): Promise<string> {
  if (!isHfUri(uri))
    throw new OperatorError(
      `"${uri}" is not an hf: URI; models pull takes hf:OWNER/REPO[@REVISION]/PATH/TO/FILE.gguf.`,
    );
  const progressStream = options.progressStream ?? process.stderr;
  // cli-progress is imported for a pull only: `oruel serve` loads this file too.
  const { createProgressDisplay } = await import('../models/progress.js');
  const display = createProgressDisplay({ label: uri, stream: progressStream });
  let downloaded = false;
  try {
    const path = await resolveModelPath(uri, {
      modelsDir: options.modelsDir,
      hfEndpoint: options.hfEndpoint,
      token: options.token,
      signal: options.signal,
      onDownloadStart: (url) => progressStream.write(`downloading ${uri} from ${url}\n`),
      onProgress: (bytes, total) => {
        downloaded = true;
        display.onProgress(bytes, total);
      },
    });
    if (!downloaded) progressStream.write(`${uri} is already downloaded.\n`);
    return path;
  } finally {
    display.stop();
  }
}

/** Ctrl-C stops the transfer cleanly, keeping the `.part` file for the next pull to resume. */
async function pullWithInterrupt(uri: string, options: PullModelOptions): Promise<string> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  try {
    return await pullModel(uri, { ...options, signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted)
      throw new OperatorError('Download cancelled; run the same command again to resume it.');
    throw error;
  } finally {
    process.removeListener('SIGINT', abort);
  }
}

/** The text of `oruel models list`: a table of complete models, then any incomplete downloads. */
export async function listModelsReport(modelsDir: string): Promise<string> {
  const [models, partial] = await Promise.all([listLocalModels(modelsDir), listPartialDownloads(modelsDir)]);
  let report =
    models.length === 0
      ? `No models downloaded in ${modelsDir}. Download one with: oruel models pull hf:OWNER/REPO/FILE.gguf\n`
      : formatTable(['URI', 'SIZE', 'PATH'], models);
  if (partial.length > 0) {
    report += `\nIncomplete downloads (pull the same URI again to resume):\n${formatTable(['URI', 'RECEIVED', 'PATH'], partial)}`;
  }
  return report;
}

function formatTable(header: [string, string, string], models: LocalModel[]): string {
  const rows = [
    header,
    ...models.map((model): [string, string, string] => [model.uri, formatBytes(model.bytes), model.path]),
  ];
  const uriWidth = Math.max(...rows.map((row) => row[0].length));
  const sizeWidth = Math.max(...rows.map((row) => row[1].length));
  return rows.map(([uri, size, path]) => `${uri.padEnd(uriWidth)}  ${size.padStart(sizeWidth)}  ${path}\n`).join('');
}
