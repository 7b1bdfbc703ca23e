import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { POSTGRES_TEST_URL } from '../storage/test-databases.js';
import { REDIS_TEST_URL } from '../limits/redis-test.js';
import { CHROMIUM } from './chromium.js';

/**
 * What the integration and slow tests need beside the clone: PostgreSQL with a database the tests may
 * use, Redis, Chromium. Run before any test (vitest globalSetup) and first in `npm test`: a fresh
 * machine gets one line per missing piece with the command that provides it, within seconds, instead
 * of hundreds of failures. A Postgres server that is up without the test database gets it created.
 */

const CONNECT_TIMEOUT_MS = 3_000;

/** Each missing piece as one line: what is missing, then the command that provides it. */
export async function preflightProblems(options: { chromium: boolean } = { chromium: true }): Promise<string[]> {
  const problems = await Promise.all([postgresProblem(), redisProblem(), options.chromium ? chromiumProblem() : null]);
  return problems.filter((problem): problem is string => problem !== null);
}

async function postgresProblem(): Promise<string | null> {
  const target = new URL(POSTGRES_TEST_URL);
  const where = `${target.hostname}:${target.port || '5432'}`;
  const database = decodeURIComponent(target.pathname.slice(1)) || 'postgres';
  const attempt = await connectPostgres(POSTGRES_TEST_URL);
  if (attempt === null) return null;
  if (attempt.code === '3D000') return createDatabase(target, database);
  if (attempt.code === 'ECONNREFUSED' || attempt.code === 'ETIMEDOUT' || attempt.code === 'EHOSTUNREACH') {
    return `PostgreSQL is not answering on ${where} (tests use ${redact(target)}): sudo apt-get install -y postgresql && sudo pg_ctlcluster $(ls /etc/postgresql | head -n1) main start (or set ORUEL_TEST_POSTGRES_URL)`;
  }
  if (attempt.code === '28000' || attempt.code === '28P01') {
    return `PostgreSQL on ${where} refuses ${redact(target)} (${attempt.message}): allow it, e.g. "host all all 127.0.0.1/32 trust" in pg_hba.conf, then reload (or set ORUEL_TEST_POSTGRES_URL)`;
  }
  return `PostgreSQL on ${where}: ${attempt.message} (tests use ${redact(target)}; set ORUEL_TEST_POSTGRES_URL to another server)`;
}

/** Connects and disconnects; null when it worked, else the error's code and message. */
async function connectPostgres(url: string): Promise<{ code: string; message: string } | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    return null;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return { code: code ?? (message.includes('timeout') ? 'ETIMEDOUT' : 'UNKNOWN'), message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server is up, the database is not there: create it from the server's maintenance database. */
async function createDatabase(target: URL, database: string): Promise<string | null> {
  const maintenance = new URL(target);
  maintenance.pathname = '/postgres';
  maintenance.search = '';
  const client = new pg.Client({
    connectionString: maintenance.toString(),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  try {
    await client.connect();
    await client.query(`create database ${pg.escapeIdentifier(database)}`);
    process.stderr.write(`preflight: created PostgreSQL database "${database}" on ${target.host}\n`);
    return null;
  } catch (error) {
    // Another run may have created it in between.
    if ((error as { code?: string }).code === '42P04') return null;
    return `PostgreSQL database "${database}" is missing and could not be created (${(error as Error).message}): createdb -h ${target.hostname} -U ${target.username || 'postgres'} ${database}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisProblem(): Promise<string | null> {
  const client = new Redis(REDIS_TEST_URL, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // ioredis rejects connect() with "Connection is closed."; the socket's own error says why.
  let socketError: Error | null = null;
  client.on('error', (error: Error) => (socketError ??= error));
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    const reason = (socketError as Error | null)?.message ?? (error as Error).message;
    return `Redis is not answering at ${REDIS_TEST_URL} (${reason}): sudo apt-get install -y redis-server && redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" (or set ORUEL_TEST_REDIS_URL)`;
  } finally {
    client.disconnect();
  }
}

async function chromiumProblem(): Promise<string | null> {
  if (existsSync(CHROMIUM)) return null;
  return `Chromium is not installed at ${CHROMIUM} (the browser tests drive it): sudo apt-get install -y chromium (Ubuntu: a chromium .deb, not the snap; or set ORUEL_TEST_CHROMIUM)`;
}

function redact(url: URL): string {
  const copy = new URL(url);
  if (copy.password) copy.password = '***';
  copy.search = '';
  return copy.toString();
}

/**
 * vitest globalSetup: stop before any test, with every missing piece named. Chromium is left to the
 * browser tests here (they fail with the install command), so a run of other files does not need it;
 * `npm test` checks it too, first (preflight-main.ts).
 */
export default async function preflight(): Promise<void> {
  const problems = await preflightProblems({ chromium: false });
  if (problems.length > 0)
    throw new Error(`this machine lacks what the tests need:\n${problems.map((line) => `  - ${line}`).join('\n')}`);
}
