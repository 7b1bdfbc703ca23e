import type { Command } from 'commander';
import { SqlKeyStore } from '../auth/sql-key-store.js';
import type { ApiKeyRecord, NewKeyInput } from '../auth/key-store.js';
import { loadConfig } from '../config/load.js';
import { withDatabase } from '../storage/with-database.js';
import { formatTable } from '../usage/report-format.js';
import { OperatorError } from './run-command.js';

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

interface ConfigOption {
  config?: string;
}

interface CreateOptions extends ConfigOption {
  name: string;
  models?: string;
  rpm?: string;
  tpm?: string;
  maxConcurrent?: string;
  expires?: string;
}

interface ListOptions extends ConfigOption {
  format: string;
}

const LIST_FORMATS = ['table', 'json'];

export function registerKeysCommand(program: Command, io: CliIo = processIo): void {
  const keys = program.command('keys').description('Create, list and revoke API keys.');
  keys
    .command('create')
    .description('Create an API key. The key alone goes to stdout, once; details go to stderr.')
    .option('--name <name>', 'a label for the key', 'unnamed')
    .option('--models <list>', 'comma-separated models the key may use (default: all)')
    .option('--rpm <n>', 'requests per minute')
    .option('--tpm <n>', 'tokens per minute')
    .option('--max-concurrent <n>', 'requests in flight at once')
    .option('--expires <iso>', `expiry time, ISO 8601 (${ISO_EXAMPLE})`)
    .option('--config <file>', 'YAML config file')
    .action((options: CreateOptions) => createKey(options, io));
  keys
    .command('list')
    .description('List API keys (never the keys themselves).')
    .option('--format <format>', 'table or json', 'table')
    .option('--config <file>', 'YAML config file')
    .action((options: ListOptions) => listKeys(options, io));
  keys
    .command('revoke <id>')
    .description('Revoke an API key by id; requests with it are refused from now on.')
    .option('--config <file>', 'YAML config file')
    .action((id: string, options: ConfigOption) => revokeKey(id, options, io));
}

async function createKey(options: CreateOptions, io: CliIo): Promise<void> {
  const input = newKeyInput(options);
  const { record, key } = await withDatabase(databaseUrl(options, io), (database) => new SqlKeyStore(database.db).create(input));
  io.out(`${key}\n`);
  io.err(
    `Created key ${record.id} (name "${record.name}", models ${modelsText(record)}, limits ${limitsText(record)}, expires ${record.expiresAt === null ? 'never' : dateText(record.expiresAt)}).\n` +
      'The key above is shown once; store it now.\n',
  );
}

async function listKeys(options: ListOptions, io: CliIo): Promise<void> {
  if (!LIST_FORMATS.includes(options.format)) throw new OperatorError(`--format must be one of ${LIST_FORMATS.join(', ')}, got "${options.format}".`);
  const records = await withDatabase(databaseUrl(options, io), (database) => new SqlKeyStore(database.db).list());
  if (options.format === 'json') io.out(`${JSON.stringify(records, null, 2)}\n`);
  else if (records.length === 0) io.out('No API keys yet. Create one with `oruel keys create`.\n');
  else io.out(formatTable(['id', 'name', 'prefix', 'models', 'limits', 'created', 'expires', 'revoked'], records.map(keyCells)));
}

async function revokeKey(id: string, options: ConfigOption, io: CliIo): Promise<void> {
  const revoked = await withDatabase(databaseUrl(options, io), (database) => new SqlKeyStore(database.db).revoke(id));
  if (!revoked) throw new OperatorError(`No API key has the id "${id}". See the ids with \`oruel keys list\`.`);
  io.out(`Revoked ${id}.\n`);
}

/** The database URL after the config file, the environment (ORUEL_DATABASE_URL) and the defaults. */
export function databaseUrl(options: ConfigOption, io: CliIo): string {
  return loadConfig({ configFile: options.config }, io.env).database.url;
}

function newKeyInput(options: CreateOptions): NewKeyInput {
  return {
    name: options.name,
    models: options.models === undefined ? null : modelList(options.models),
    rpm: optionalCount(options.rpm, '--rpm'),
    tpm: optionalCount(options.tpm, '--tpm'),
    maxConcurrent: optionalCount(options.maxConcurrent, '--max-concurrent'),
    expiresAt: options.expires === undefined ? null : futureDate(options.expires),
  };
}

function modelList(text: string): string[] {
  const models = text.split(',').map((model) => model.trim()).filter((model) => model !== '');
  if (models.length === 0) throw new OperatorError('--models names no model; leave it out to allow every model.');
  return models;
}

function optionalCount(text: string | undefined, option: string): number | null {
  if (text === undefined) return null;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new OperatorError(`${option} must be a whole number of at least 1, got "${text}".`);
  return Number(text);
}

function futureDate(text: string): Date {
  const date = parseIsoDate(text, '--expires');
  if (date.getTime() <= Date.now()) throw new OperatorError(`--expires ${text} is in the past.`);
  return date;
}

const ISO_EXAMPLE = 'e.g. 2026-01-31, 2026-01-31T12:00:00Z; a date alone is midnight UTC';
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * An ISO 8601 date or date-time, strictly: JavaScript alone would take "2024-02-30" for March 1st
 * and many non-ISO strings. A date-time without an offset is local time, as in JavaScript.
 */
export function parseIsoDate(text: string, option: string): Date {
  const match = ISO_DATE_TIME.exec(text.trim());
  const date = new Date(text.trim());
  if (!match || Number.isNaN(date.getTime()) || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw new OperatorError(`${option} must be an ISO 8601 date or date-time (${ISO_EXAMPLE}), got "${text}".`);
  }
  return date;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function keyCells(record: ApiKeyRecord): string[] {
  return [record.id, record.name, record.prefix, modelsText(record), limitsText(record), dateText(record.createdAt), dateText(record.expiresAt), dateText(record.revokedAt)];
}

function modelsText(record: ApiKeyRecord): string {
  return record.models === null ? 'all' : record.models.join(',');
}

function limitsText(record: ApiKeyRecord): string {
  const limits = [
    record.rpm === null ? null : `rpm=${record.rpm}`,
    record.tpm === null ? null : `tpm=${record.tpm}`,
    record.maxConcurrent === null ? null : `concurrent=${record.maxConcurrent}`,
  ].filter((limit) => limit !== null);
  return limits.length === 0 ? 'none' : limits.join(' ');
}

function dateText(date: Date | null): string {
  return date === null ? '-' : date.toISOString().replace(/\.000Z$/, 'Z');
}
