import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-context.js';
import { registerUsageCommand } from '../../src/cli/usage.js';
import { withDatabase } from '../../src/storage/with-database.js';
import type { LedgerRecord } from '../../src/usage/ledger.js';
import { SqlLedger } from '../../src/usage/sql-ledger.js';
import { spawnCli } from '../storage/test-cli.js';

function ledgerRecord(
  requestId: string,
  keyId: string | null,
  model: string,
  startedAt: string,
  promptTokens: number,
): LedgerRecord {
  const start = new Date(startedAt);
  return {
    requestId,
    keyId,
    model,
    engine: 'llama-cpp/x',
    stream: false,
    promptTokens,
    completionTokens: 1,
    usageSource: 'engine',
    finishReason: 'stop',
    outcome: 'completed',
    errorCode: null,
    status: 200,
    ttftMs: 5,
    durationMs: 10,
    startedAt: start,
    finishedAt: start,
  };
}

async function runUsage(args: string[], databaseUrl: string): Promise<{ out: string; error: unknown }> {
  const result = { out: '', error: undefined as unknown };
  const io: CliIo = {
    out: (text) => void (result.out += text),
    err: () => undefined,
    env: { ORUEL_DATABASE_URL: databaseUrl },
  };
  const program = new Command('oruel').exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  registerUsageCommand(program, io);
  await program.parseAsync(['usage', ...args], { from: 'user' }).catch((error: unknown) => (result.error = error));
  return result;
}

describe('oruel usage', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oruel-usage-cli-'));
    url = `sqlite:${join(dir, 'usage.db')}`;
    await withDatabase(url, async (database) => {
      const ledger = new SqlLedger(database.db, { logger: { warn: () => undefined, error: () => undefined } });
      ledger.record(ledgerRecord('r1', 'key_a', 'tiny', '2025-03-01T10:00:00Z', 10));
      ledger.record(ledgerRecord('r2', 'key_a', 'tiny', '2025-03-02T10:00:00Z', 20));
      ledger.record(ledgerRecord('r3', 'key_b', 'has,comma', '2025-03-03T10:00:00Z', 30));
      ledger.record(ledgerRecord('r4', null, 'tiny', '2025-03-04T10:00:00Z', 40));
      await ledger.close();
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints totals per key and model as a table by default', async () => {
    const { out, error } = await runUsage([], url);
    expect(error).toBeUndefined();
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^key\s+model\s+requests\s+prompt_tokens/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/).slice(0, 4))).toEqual([
      ['key_a', 'tiny', '2', '30'],
      ['key_b', 'has,comma', '1', '30'],
      ['(none)', 'tiny', '1', '40'],
    ]);
  });

  it('filters by key, model and time, and prints JSON', async () => {
    const byKey = JSON.parse((await runUsage(['--key', 'key_a', '--format', 'json'], url)).out) as Array<{
      requests: number;
    }>;
    expect(byKey).toEqual([expect.objectContaining({ keyId: 'key_a', requests: 2, promptTokens: 30 })]);
    const byModel = JSON.parse(
      (
        await runUsage(
          ['--model', 'tiny', '--since', '2025-03-02', '--until', '2025-03-04T10:00:00Z', '--format', 'json'],
          url,
        )
      ).out,
    ) as unknown[];
    expect(byModel).toEqual([expect.objectContaining({ keyId: 'key_a', requests: 1, promptTokens: 20 })]);
  });

  it('refuses bad dates and formats with operator errors', async () => {
    for (const [args, message] of [
      [['--since', '2025-02-30'], /--since must be an ISO 8601 date/],
      [['--until', 'yesterday'], /--until must be an ISO 8601 date/],
      [['--since', '2025-03-02', '--until', '2025-03-01'], /--since must be earlier than --until/],
      [['--format', 'xml'], /--format must be one of table, json, csv/],
    ] as Array<[string[], RegExp]>) {
      const result = await runUsage(args, url);
      expect(result.error, args.join(' ')).toMatchObject({
        operatorFacing: true,
        message: expect.stringMatching(message),
      });
    }
  });

  it('prints CSV from the real CLI entry point', async () => {
    const result = await spawnCli(['usage', '--format', 'csv'], url);
    // stderr names the database the command used, and nothing else goes there.
    expect(result.stderr).toBe(`database: ${url}\n`);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'key,model,requests,prompt_tokens,completion_tokens,total_tokens,completed,cancelled,errors\r\n' +
        'key_a,tiny,2,30,2,32,2,0,0\r\n' +
        'key_b,"has,comma",1,30,1,31,1,0,0\r\n' +
        '(none),tiny,1,40,1,41,1,0,0\r\n',
    );
  });
});
