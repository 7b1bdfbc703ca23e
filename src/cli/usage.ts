import type { Command } from 'commander';
import type { UsageQuery } from '../usage/index.js';
import { selectUsageTotals, formatTotals, isReportFormat, REPORT_FORMATS } from '../usage/index.js';
import { parseIsoDate } from './key-options.js';
import { processIo, withCommandDatabase, type CliIo } from './cli-context.js';
import { OperatorError } from '../errors/index.js';

interface UsageOptions {
  key?: string;
  model?: string;
  since?: string;
  until?: string;
  format: string;
  config?: string;
}

export function registerUsageCommand(program: Command, io: CliIo = processIo): void {
  program
    .command('usage')
    .description('Print requests and tokens per API key and model, from the usage ledger.')
    .option('--key <id>', 'only this key id')
    .option('--model <name>', 'only this model')
    .option('--since <iso>', 'requests started at or after this time (ISO 8601; a date alone is midnight UTC)')
    .option('--until <iso>', 'requests started before this time (ISO 8601)')
    .option('--format <format>', REPORT_FORMATS.join(', '), 'table')
    .option('--config <file>', 'YAML config file')
    .action((options: UsageOptions) => printUsage(options, io));
}

async function printUsage(options: UsageOptions, io: CliIo): Promise<void> {
  const format = options.format;
  if (!isReportFormat(format))
    throw new OperatorError(`--format must be one of ${REPORT_FORMATS.join(', ')}, got "${format}".`);
  const query = usageQuery(options);
  const totals = await withCommandDatabase(options, io, (database) => selectUsageTotals(database.db, query));
  io.out(formatTotals(totals, format));
}

function usageQuery(options: UsageOptions): UsageQuery {
  const query: UsageQuery = {};
  if (options.key !== undefined) query.keyId = options.key;
  if (options.model !== undefined) query.model = options.model;
  if (options.since !== undefined) query.since = parseIsoDate(options.since, '--since');
  if (options.until !== undefined) query.until = parseIsoDate(options.until, '--until');
  if (query.since && query.until && query.since.getTime() >= query.until.getTime()) {
    throw new OperatorError('--since must be earlier than --until.');
  }
  return query;
}
