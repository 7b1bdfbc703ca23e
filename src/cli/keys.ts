import type { Command } from 'commander';
import { InvalidKeyInputError, KeyRevokedError, type ApiKeyRecord, SqlKeyStore } from '../auth/index.js';
import { formatTable } from '../usage/index.js';
import { BUDGET_EXAMPLE, ISO_EXAMPLE, keyPatch, newKeyInput, type KeyOptions } from './key-options.js';
import { OperatorError } from '../errors/index.js';
import { configOf, processIo, withCommandDatabase, type CliIo, type ConfigOption } from './cli-context.js';

interface FormatOption extends ConfigOption {
  format: string;
}

const LIST_FORMATS = ['table', 'json'];
const CONFIG_HELP = 'YAML config file';
const RUNNING_SERVERS =
  'Running servers apply it at once when they share Redis with this command, otherwise within 2 s.';

export function registerKeysCommand(program: Command, io: CliIo = processIo): void {
  const keys = program.command('keys').description('Create, list, show, update, rotate and revoke API keys.');
  const create = keys
    .command('create')
    .description('Create an API key. The key alone goes to stdout, once; details go to stderr.');
  withKeyOptions(create, 'unnamed').action((options: KeyOptions & ConfigOption) => createKey(options, io));
  keys
    .command('list')
    .description('List API keys (never the keys themselves).')
    .option('--format <format>', 'table or json', 'table')
    .option('--config <file>', CONFIG_HELP)
    .action((options: FormatOption) => listKeys(options, io));
  keys
    .command('get <id>')
    .description('Show one API key (never the key itself).')
    .option('--format <format>', 'table or json', 'table')
    .option('--config <file>', CONFIG_HELP)
    .action((id: string, options: FormatOption) => getKey(id, options, io));
  const update = keys
    .command('update <id>')
    .description(
      `Change a key's name, models, limits, budget or expiry; \`none\` clears a limit or the budget, \`never\` the expiry. ${RUNNING_SERVERS}`,
    )
    .option('--all-models', 'allow every model (removes the allow-list)');
  withKeyOptions(update).action((id: string, options: KeyOptions & ConfigOption) => updateKey(id, options, io));
  keys
    .command('rotate <id>')
    .description(
      `Give a key a new secret (same id and settings); the old one stops working. The new key alone goes to stdout. ${RUNNING_SERVERS}`,
    )
    .option('--config <file>', CONFIG_HELP)
    .action((id: string, options: ConfigOption) => rotateKey(id, options, io));
  keys
    .command('revoke <id>')
    .description(`Revoke an API key by id; requests with it are refused from now on. ${RUNNING_SERVERS}`)
    .option('--config <file>', CONFIG_HELP)
    .action((id: string, options: ConfigOption) => revokeKey(id, options, io));
}

function withKeyOptions(command: Command, defaultName?: string): Command {
  return command
    .option('--name <name>', 'a label for the key', defaultName)
    .option('--models <list>', 'comma-separated models the key may use (default: all)')
    .option('--rpm <n>', 'requests per minute')
    .option('--tpm <n>', 'tokens per minute')
    .option('--max-concurrent <n>', 'requests in flight at once')
    .option('--budget <tokens/period>', `token budget per period: ${BUDGET_EXAMPLE}`)
    .option('--expires <iso>', `expiry time, ISO 8601 (${ISO_EXAMPLE})`)
    .option('--config <file>', CONFIG_HELP);
}

async function createKey(options: KeyOptions & ConfigOption, io: CliIo): Promise<void> {
  const input = newKeyInput(options);
  warnUnknownModels(input.models ?? null, options, io);
  const { record, key } = await withKeyStore(options, io, (store) => store.create(input));
  io.out(`${key}\n`);
  io.err(`Created key ${describeKey(record)}.\nThe key above is shown once; store it now.\n`);
}

async function listKeys(options: FormatOption, io: CliIo): Promise<void> {
  checkFormat(options.format);
  const records = await withKeyStore(options, io, (store) => store.list());
  if (options.format === 'json') io.out(`${JSON.stringify(records, null, 2)}\n`);
  else if (records.length === 0) io.out('No API keys yet. Create one with `oruel keys create`.\n');
  else io.out(keysTable(records));
}

async function getKey(id: string, options: FormatOption, io: CliIo): Promise<void> {
  checkFormat(options.format);
  const record = found(await withKeyStore(options, io, (store) => store.get(id)), id);
  io.out(options.format === 'json' ? `${JSON.stringify(record, null, 2)}\n` : keysTable([record]));
}

async function updateKey(id: string, options: KeyOptions & ConfigOption, io: CliIo): Promise<void> {
  const patch = keyPatch(options);
  if (patch.models) warnUnknownModels(patch.models, options, io);
  const record = found(await withKeyStore(options, io, (store) => store.update(id, patch)), id);
  await announceChange(options, id, io);
  io.out(`Updated ${describeKey(record)}.\n`);
}

async function rotateKey(id: string, options: ConfigOption, io: CliIo): Promise<void> {
  const rotated = await withKeyStore(options, io, (store) => store.rotate(id));
  if (rotated === null) throw noSuchKey(id);
  await announceChange(options, id, io);
  io.out(`${rotated.key}\n`);
  io.err(
    `Rotated key ${rotated.record.id}: the key above replaces the old one, which no longer works. It is shown once; store it now.\n`,
  );
}

async function revokeKey(id: string, options: ConfigOption, io: CliIo): Promise<void> {
  const revoked = await withKeyStore(options, io, (store) => store.revoke(id));
  if (!revoked) throw noSuchKey(id);
  await announceChange(options, id, io);
  io.out(`Revoked ${id}.\n`);
}

/** A key may name a model no server serves yet; say so, since it is more often a typo. */
function warnUnknownModels(models: string[] | null, options: ConfigOption, io: CliIo): void {
  if (models === null) return;
  const configured = configOf(options, io).models.map((model) => model.name);
  const unknown = models.filter((model) => !configured.includes(model));
  if (unknown.length === 0) return;
  const known = configured.length === 0 ? 'the configuration names no models' : `configured: ${configured.join(', ')}`;
  io.err(
    `warning: ${unknown.map((model) => `"${model}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a configured model (${known}); the key can use ${unknown.length === 1 ? 'it' : 'them'} only where a server serves ${unknown.length === 1 ? 'that name' : 'those names'}.\n`,
  );
}

async function withKeyStore<T>(options: ConfigOption, io: CliIo, work: (store: SqlKeyStore) => Promise<T>): Promise<T> {
  try {
    return await withCommandDatabase(options, io, (database) => work(new SqlKeyStore(database.db)));
  } catch (error) {
    // The store's messages name the field or the key; its stack would only hide them.
    if (error instanceof InvalidKeyInputError || error instanceof KeyRevokedError)
      throw new OperatorError(error.message);
    throw error;
  }
}

/** Tells running servers through Redis (when configured) so their key caches drop the key now. */
async function announceChange(options: ConfigOption, id: string, io: CliIo): Promise<void> {
  const config = configOf(options, io);
  if (config.redis.url === null) return;
  const quiet = { warn: () => undefined, error: () => undefined };
  try {
    // ioredis is imported only here: `oruel serve` loads this file too, and one replica never needs it.
    const { publishKeyChange } = await import('../auth/redis-key-change-feed.js');
    await publishKeyChange(config.redis.url, config.redis.keyPrefix, id, quiet);
  } catch (error) {
    io.err(
      `warning: could not tell running servers through Redis (${(error as Error).message}); they apply the change within ${config.limits.keyCacheTtlMs / 1000} s.\n`,
    );
  }
}

function checkFormat(format: string): void {
  if (!LIST_FORMATS.includes(format))
    throw new OperatorError(`--format must be one of ${LIST_FORMATS.join(', ')}, got "${format}".`);
}

function found(record: ApiKeyRecord | null, id: string): ApiKeyRecord {
  if (record === null) throw noSuchKey(id);
  return record;
}

function noSuchKey(id: string): OperatorError {
  return new OperatorError(`No API key has the id "${id}". See the ids with \`oruel keys list\`.`);
}

function describeKey(record: ApiKeyRecord): string {
  const expires = record.expiresAt === null ? 'never' : dateText(record.expiresAt);
  return `${record.id} (name "${record.name}", models ${modelsText(record)}, limits ${limitsText(record)}, expires ${expires})`;
}

function keysTable(records: ApiKeyRecord[]): string {
  return formatTable(
    ['id', 'name', 'prefix', 'models', 'limits', 'created', 'expires', 'revoked'],
    records.map(keyCells),
  );
}

function keyCells(record: ApiKeyRecord): string[] {
  return [
    record.id,
    record.name,
    record.prefix,
    modelsText(record),
    limitsText(record),
    dateText(record.createdAt),
    dateText(record.expiresAt),
    dateText(record.revokedAt),
  ];
}

function modelsText(record: ApiKeyRecord): string {
  return record.models === null ? 'all' : record.models.join(',');
}

function limitsText(record: ApiKeyRecord): string {
  const limits = [
    record.rpm === null ? null : `rpm=${record.rpm}`,
    record.tpm === null ? null : `tpm=${record.tpm}`,
    record.maxConcurrent === null ? null : `concurrent=${record.maxConcurrent}`,
    record.budget === null ? null : `budget=${record.budget.tokens}/${record.budget.period}`,
  ].filter((limit) => limit !== null);
  return limits.length === 0 ? 'none' : limits.join(' ');
}

function dateText(date: Date | null): string {
  return date === null ? '-' : date.toISOString().replace(/\.000Z$/, 'Z');
}
