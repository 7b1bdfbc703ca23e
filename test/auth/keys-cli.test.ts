import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/auth/api-key.js';
import { SqlKeyStore } from '../../src/auth/sql-key-store.js';
import { registerKeysCommand } from '../../src/cli/keys.js';
import type { CliIo } from '../../src/cli/cli-context.js';
import { withDatabase } from '../../src/storage/with-database.js';
import { REDIS_TEST_URL, uniqueRedisPrefix } from '../limits/redis-test.js';
import { spawnCli } from '../storage/test-cli.js';

interface CliResult {
  out: string;
  err: string;
  error: unknown;
}

/** Runs `oruel keys ...` in this process against the given database URL. */
async function runKeys(args: string[], databaseUrl: string): Promise<CliResult> {
  const result: CliResult = { out: '', err: '', error: undefined };
  const io: CliIo = {
    out: (text) => void (result.out += text),
    err: (text) => void (result.err += text),
    env: { ORUEL_DATABASE_URL: databaseUrl },
  };
  const program = new Command('oruel').exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  registerKeysCommand(program, io);
  await program.parseAsync(['keys', ...args], { from: 'user' }).catch((error: unknown) => (result.error = error));
  return result;
}

describe('oruel keys (in process)', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oruel-keys-cli-'));
    url = `sqlite:${join(dir, 'keys.db')}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('says on stderr which database it used', async () => {
    const result = await runKeys(['list'], url);
    expect(result.error).toBeUndefined();
    expect(result.err).toBe(`database: ${url}\n`);
  });

  it('warns about a model no configuration serves, and refuses --models none', async () => {
    const created = await runKeys(['create', '--name', 'typo', '--models', 'no-such-model'], url);
    expect(created.error).toBeUndefined();
    expect(created.err).toContain(
      'warning: "no-such-model" is not a configured model (the configuration names no models)',
    );
    const id = /Created key (key_\w+)/.exec(created.err)?.[1] ?? '';
    for (const args of [
      ['update', id, '--models', 'none'],
      ['create', '--models', 'none'],
    ]) {
      const refused = await runKeys(args, url);
      expect(refused.error, args.join(' ')).toMatchObject({
        operatorFacing: true,
        message: expect.stringContaining('--models none is not a model list'),
      });
    }
    const listed = await runKeys(['get', id, '--format', 'json'], url);
    expect(JSON.parse(listed.out)).toMatchObject({ models: ['no-such-model'] });
  });

  it('create prints the key alone on stdout and the details on stderr', async () => {
    const result = await runKeys(
      [
        'create',
        '--name',
        'ci',
        '--models',
        'a, b',
        '--rpm',
        '60',
        '--tpm',
        '1000',
        '--max-concurrent',
        '2',
        '--expires',
        '2099-01-01',
      ],
      url,
    );
    expect(result.error).toBeUndefined();
    expect(result.out).toMatch(/^oruel_[0-9A-Za-z]{40}\n$/);
    expect(result.err).toMatch(
      /Created key key_\w+ \(name "ci", models a,b, limits rpm=60 tpm=1000 concurrent=2, expires 2099-01-01T00:00:00Z\)/,
    );
    expect(result.err).toContain('shown once; store it now');
    expect(result.err).not.toContain(result.out.trim());
    const verified = await withDatabase(url, (database) => new SqlKeyStore(database.db).verify(result.out.trim()));
    expect(verified).toMatchObject({ name: 'ci', models: ['a', 'b'], rpm: 60, tpm: 1000, maxConcurrent: 2 });
  });

  it('list shows keys as a table or JSON, never the key or its hash', async () => {
    const created = await runKeys(['create', '--name', 'listed'], url);
    const key = created.out.trim();
    const table = await runKeys(['list'], url);
    expect(table.out.split('\n')[0]).toMatch(/^id\s+name\s+prefix\s+models\s+limits\s+created\s+expires\s+revoked$/);
    expect(table.out).toMatch(new RegExp(`key_\\w+\\s+listed\\s+${key.slice(0, 10)}\\s+all\\s+none\\s+\\S+\\s+-\\s+-`));
    const json = await runKeys(['list', '--format', 'json'], url);
    const records = JSON.parse(json.out) as Array<{ name: string }>;
    expect(records.map((record) => record.name)).toContain('listed');
    for (const output of [table.out, json.out]) {
      expect(output).not.toContain(key);
      expect(output).not.toContain(hashApiKey(key));
    }
  });

  it('revoke marks the key revoked; an unknown id is an operator error', async () => {
    const key = (await runKeys(['create', '--name', 'doomed'], url)).out.trim();
    const [record] = (await withDatabase(url, (database) => new SqlKeyStore(database.db).list())).filter(
      (candidate) => candidate.name === 'doomed',
    );
    const revoked = await runKeys(['revoke', record!.id], url);
    expect(revoked.error).toBeUndefined();
    expect(revoked.out).toBe(`Revoked ${record!.id}.\n`);
    expect(await withDatabase(url, (database) => new SqlKeyStore(database.db).verify(key))).toBeNull();

    const unknown = await runKeys(['revoke', 'key_nope'], url);
    expect(unknown.error).toMatchObject({
      operatorFacing: true,
      message: expect.stringContaining('No API key has the id "key_nope"'),
    });
  });

  it('create takes --budget; get shows one key; update changes and clears settings', async () => {
    const key = (
      await runKeys(['create', '--name', 'budgeted', '--budget', '5000/month', '--rpm', '10'], url)
    ).out.trim();
    const record = await withDatabase(url, (database) => new SqlKeyStore(database.db).verify(key));
    expect(record).toMatchObject({ budget: { tokens: 5000, period: 'month' }, rpm: 10 });

    const shown = await runKeys(['get', record!.id], url);
    expect(shown.out).toMatch(new RegExp(`${record!.id}\\s+budgeted\\s+\\S+\\s+all\\s+rpm=10 budget=5000/month`));
    expect(JSON.parse((await runKeys(['get', record!.id, '--format', 'json'], url)).out)).toMatchObject({
      id: record!.id,
      budget: { tokens: 5000, period: 'month' },
    });

    const updated = await runKeys(
      [
        'update',
        record!.id,
        '--name',
        'renamed',
        '--models',
        'a,b',
        '--rpm',
        'none',
        '--tpm',
        '99',
        '--budget',
        'none',
        '--expires',
        '2099-06-01',
      ],
      url,
    );
    expect(updated.error).toBeUndefined();
    expect(updated.out).toMatch(
      /^Updated key_\w+ \(name "renamed", models a,b, limits tpm=99, expires 2099-06-01T00:00:00Z\)\.\n$/,
    );
    const cleared = await runKeys(['update', record!.id, '--all-models', '--expires', 'never'], url);
    expect(cleared.out).toMatch(/models all, limits tpm=99, expires never/);
    for (const args of [
      ['get', 'key_nope'],
      ['update', 'key_nope', '--rpm', '5'],
    ]) {
      expect((await runKeys(args, url)).error).toMatchObject({
        operatorFacing: true,
        message: expect.stringContaining('No API key has the id "key_nope"'),
      });
    }
  });

  it('rotate prints the new key alone; the old key stops working', async () => {
    const oldKey = (await runKeys(['create', '--name', 'rotating'], url)).out.trim();
    const record = await withDatabase(url, (database) => new SqlKeyStore(database.db).verify(oldKey));
    const rotated = await runKeys(['rotate', record!.id], url);
    expect(rotated.out).toMatch(/^oruel_[0-9A-Za-z]{40}\n$/);
    expect(rotated.err).toContain('no longer works');
    const store = (work: (keys: SqlKeyStore) => Promise<unknown>) =>
      withDatabase(url, (database) => work(new SqlKeyStore(database.db)));
    expect(await store((keys) => keys.verify(oldKey))).toBeNull();
    expect(await store((keys) => keys.verify(rotated.out.trim()))).toMatchObject({ id: record!.id });
    await runKeys(['revoke', record!.id], url);
    expect((await runKeys(['rotate', record!.id], url)).error).toMatchObject({
      operatorFacing: true,
      message: expect.stringMatching(/revoked; a revoked key cannot be rotated/),
    });
  });

  it('tells running servers through Redis when one is configured', async () => {
    const prefix = uniqueRedisPrefix();
    const configFile = join(dir, 'redis.yaml');
    await writeFile(
      configFile,
      `database:\n  url: ${url}\nredis:\n  url: ${REDIS_TEST_URL}\n  keyPrefix: "${prefix}"\n`,
    );
    const key = (await runKeys(['create', '--name', 'announced'], url)).out.trim();
    const record = await withDatabase(url, (database) => new SqlKeyStore(database.db).verify(key));
    const subscriber = new Redis(REDIS_TEST_URL);
    try {
      await subscriber.subscribe(`${prefix}key-changes`);
      const message = new Promise<string>((resolve) =>
        subscriber.on('message', (_channel: string, text: string) => resolve(text)),
      );
      const revoked = await runKeys(['revoke', record!.id, '--config', configFile], url);
      expect(revoked.error).toBeUndefined();
      expect(await message).toBe(record!.id);
    } finally {
      subscriber.disconnect();
    }
  });

  it('refuses bad option values with operator errors, before touching the database', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['create', '--rpm', 'ten'], /--rpm must be a whole number/],
      [['create', '--tpm', '0'], /--tpm must be a whole number/],
      [['create', '--models', ' , '], /--models names no model/],
      [['create', '--expires', '2020-01-01'], /in the past/],
      [['create', '--expires', 'tomorrow'], /--expires must be an ISO 8601 date/],
      [['create', '--name', ' '], /needs a name/],
      [['list', '--format', 'xml'], /--format must be one of table, json/],
      [['create', '--budget', '100/year'], /--budget must be TOKENS\/PERIOD/],
      [['create', '--budget', '0/day'], /--budget must be/],
      [['update', 'key_x'], /Nothing to update/],
      [['update', 'key_x', '--models', 'a', '--all-models'], /either --models or --all-models/],
      [['update', 'key_x', '--rpm', 'lots'], /--rpm must be a whole number/],
    ];
    for (const [args, message] of cases) {
      const result = await runKeys(args, url);
      expect(result.error, args.join(' ')).toMatchObject({
        operatorFacing: true,
        message: expect.stringMatching(message),
      });
      expect(result.out).toBe('');
    }
  });
});

describe('oruel keys (spawned CLI)', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oruel-keys-spawn-'));
    url = `sqlite:${join(dir, 'x.db')}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('create, list and revoke work end to end with exit codes', async () => {
    const created = await spawnCli(['keys', 'create', '--name', 't'], url);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^oruel_[0-9A-Za-z]{40}\n$/);
    expect(created.stderr).toContain('shown once; store it now');

    const listed = await spawnCli(['keys', 'list', '--format', 'json'], url);
    expect(listed.code).toBe(0);
    const [record] = JSON.parse(listed.stdout) as Array<{ id: string; name: string }>;
    expect(record?.name).toBe('t');

    const revoked = await spawnCli(['keys', 'revoke', record!.id], url);
    expect(revoked.code).toBe(0);
    const unknown = await spawnCli(['keys', 'revoke', 'key_unknown'], url);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      `database: ${url}\noruel: No API key has the id "key_unknown". See the ids with \`oruel keys list\`.\n`,
    );
  });
});

describe('the default database (no ORUEL_DATABASE_URL, no config)', () => {
  it('is the same from any working directory, and each command names it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'oruel-home-'));
    try {
      const env = { HOME: home, XDG_DATA_HOME: join(home, 'data') };
      const expected = `sqlite:${join(home, 'data', 'oruel', 'oruel.db')}`;
      await mkdir(join(home, 'one'), { recursive: true });
      await mkdir(join(home, 'two'), { recursive: true });
      const created = await spawnCli(['keys', 'create', '--name', 'from-one'], null, { cwd: join(home, 'one'), env });
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr.split('\n')[0]).toBe(`database: ${expected}`);
      const listed = await spawnCli(['keys', 'list', '--format', 'json'], null, { cwd: join(home, 'two'), env });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stderr).toBe(`database: ${expected}\n`);
      expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((key) => key.name)).toEqual(['from-one']);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
