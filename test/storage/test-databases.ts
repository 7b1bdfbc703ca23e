import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/storage/database.js';

/** The server the Postgres half of the suites runs against; it must be up (the tests never skip). */
export const POSTGRES_TEST_URL = process.env.ORUEL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof DIALECTS)[number];

export interface TestDatabaseUrl {
  url: string;
  /** The Postgres schema the URL selects (null for SQLite). */
  schema: string | null;
  cleanup(): Promise<void>;
}

/** A database of its own for one test file: a temp SQLite file, or a fresh Postgres schema. */
export async function createTestDatabaseUrl(dialect: TestDialect): Promise<TestDatabaseUrl> {
  return dialect === 'sqlite' ? createSqliteUrl() : createPostgresSchemaUrl();
}

async function createSqliteUrl(): Promise<TestDatabaseUrl> {
  const dir = await mkdtemp(join(tmpdir(), 'oruel-test-'));
  return {
    url: `sqlite:${join(dir, 'test.db')}`,
    schema: null,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

async function createPostgresSchemaUrl(): Promise<TestDatabaseUrl> {
  const schema = `oruel_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await runAdmin(`create schema ${schema}`);
  const url = `${POSTGRES_TEST_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return { url, schema, cleanup: () => runAdmin(`drop schema if exists ${schema} cascade`) };
}

async function runAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Opens a database for one test file and gives it back with the function that removes it. */
export async function openTestDatabase(
  dialect: TestDialect,
): Promise<{ database: Database; target: TestDatabaseUrl; dispose(): Promise<void> }> {
  const target = await createTestDatabaseUrl(dialect);
  const database = await openDatabase(target.url);
  return {
    database,
    target,
    dispose: async () => {
      await database.close();
      await target.cleanup();
    },
  };
}
