import { loadConfig } from '../config/index.js';
import type { Config } from '../config/index.js';
import { redactDatabaseUrl, withDatabase } from '../storage/index.js';
import type { Database } from '../storage/index.js';

/** Where a command writes, and the environment it reads its configuration from (tests pass their own). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env?: Record<string, string | undefined>;
}

export const processIo: CliIo = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
};

export interface ConfigOption {
  config?: string;
}

/** The configuration after the config file, the environment (ORUEL_*) and the defaults. */
export function configOf(options: ConfigOption, io: CliIo): Config {
  return loadConfig({ configFile: options.config }, io.env);
}

/**
 * Every data command runs through here: it says on stderr which database it used, so a command run
 * from another directory or with another config never silently works on a different one.
 */
export async function withCommandDatabase<T>(
  options: ConfigOption,
  io: CliIo,
  work: (database: Database) => Promise<T>,
): Promise<T> {
  const url = configOf(options, io).database.url;
  io.err(`database: ${redactDatabaseUrl(url)}\n`);
  return withDatabase(url, work);
}
