import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { DatabaseConfigError, parseDatabaseUrl, redactDatabaseUrl } from '../../src/storage/database-url.js';
import { createTestDatabaseUrl, openTestDatabase, type TestDatabaseUrl } from './test-databases.js';

describe('parseDatabaseUrl', () => {
  it('accepts sqlite:PATH, sqlite::memory: and postgres URLs', () => {
    expect(parseDatabaseUrl('sqlite:./data/oruel.db')).toEqual({ dialect: 'sqlite', path: './data/oruel.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' });
    expect(parseDatabaseUrl('postgres://u@h:5432/db')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u@h:5432/db',
    });
    expect(parseDatabaseUrl('postgresql://u@h/db').dialect).toBe('postgres');
  });

  it('refuses other schemes with a message that lists the accepted ones and hides the rest of the URL', () => {
    const attempt = () => parseDatabaseUrl('mysql://root:hunter2@db/app');
    expect(attempt).toThrow(DatabaseConfigError);
    expect(attempt).toThrow(/"mysql".*sqlite:PATH.*postgres:\/\//);
    expect(attempt).not.toThrow(/hunter2/);
  });

  it('refuses sqlite: without a path', () => {
    expect(() => parseDatabaseUrl('sqlite:')).toThrow(/names no file/);
  });

  it('redacts passwords', () => {
    expect(redactDatabaseUrl('postgres://app:hunter2@db:5432/x')).toBe('postgres://app:***@db:5432/x');
    expect(redactDatabaseUrl('postgres://app@db/x')).toBe('postgres://app@db/x');
  });
});

describe('openDatabase on SQLite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oruel-db-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates the parent directory, uses WAL and creates the tables', async () => {
    const path = join(dir, 'nested', 'deeper', 'oruel.db');
    const database = await openDatabase(`sqlite:${path}`);
    try {
      expect(database.dialect).toBe('sqlite');
      expect(existsSync(path)).toBe(true);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
      const tables = (await database.db.introspection.getTables()).map((table) => table.name);
      expect(tables).toEqual(expect.arrayContaining(['api_keys', 'usage_ledger']));
    } finally {
      await database.close();
    }
  });

  it('opens an existing database again without re-running migrations, and close() is idempotent', async () => {
    const url = `sqlite:${join(dir, 'twice.db')}`;
    await (await openDatabase(url)).close();
    const again = await openDatabase(url);
    const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(again.db);
    expect(applied.rows.map((row) => row.name)).toEqual(['0001_initial', '0002_key_budgets']);
    await again.close();
    await again.close();
  });

  it('reports a path it cannot create as an operator error', async () => {
    const blocker = join(dir, 'blocker.db');
    await (await openDatabase(`sqlite:${blocker}`)).close();
    await expect(openDatabase(`sqlite:${join(blocker, 'inside.db')}`)).rejects.toThrow(DatabaseConfigError);
  });
});

describe('openDatabase on Postgres', () => {
  let target: TestDatabaseUrl;
  beforeAll(async () => {
    target = await createTestDatabaseUrl('postgres');
  });
  afterAll(() => target.cleanup());

  it('migrates into the schema the search_path selects, and only once', async () => {
    const first = await openDatabase(target.url);
    expect(first.dialect).toBe('postgres');
    await first.close();
    const second = await openDatabase(target.url);
    try {
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = ${target.schema} order by table_name`.execute(
        second.db,
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual([
        'api_keys',
        'kysely_migration',
        'kysely_migration_lock',
        'usage_ledger',
      ]);
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(second.db);
      expect(applied.rows.map((row) => row.name)).toEqual(['0001_initial', '0002_key_budgets']);
    } finally {
      await second.close();
    }
  });

  it('returns bigint columns as numbers, as SQLite does', async () => {
    const { database, dispose } = await openTestDatabase('postgres');
    try {
      const row = {
        id: 'key_x',
        name: 'n',
        prefix: 'oruel_abcd',
        key_hash: 'h',
        models: null,
        rpm: null,
        tpm: null,
        max_concurrent: null,
        expires_at: null,
        revoked_at: null,
        created_at: 1_700_000_000_123,
        budget_tokens: 5_000_000_000,
        budget_period: 'month',
      };
      await database.db.insertInto('api_keys').values(row).execute();
      const stored = await database.db
        .selectFrom('api_keys')
        .select(['created_at', 'budget_tokens'])
        .executeTakeFirstOrThrow();
      expect(stored.created_at).toBe(1_700_000_000_123);
      // Budgets beyond 2^31 need the bigint column (0002_key_budgets) and still come back as numbers.
      expect(stored.budget_tokens).toBe(5_000_000_000);
    } finally {
      await dispose();
    }
  });

  it('reports an unreachable server clearly, without the password', async () => {
    const attempt = openDatabase('postgres://app:hunter2@127.0.0.1:1/nothing');
    await expect(attempt).rejects.toThrow(DatabaseConfigError);
    await expect(attempt).rejects.toThrow(
      /Cannot open the database postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/nothing: .*ECONNREFUSED/,
    );
  });
});
