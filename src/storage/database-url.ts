import { OperatorError } from '../errors/index.js';

export type DatabaseTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; connectionString: string };

/** The message of a database error the operator can fix from the configuration alone. */
export class DatabaseConfigError extends OperatorError {}

const ACCEPTED =
  'Use sqlite:PATH (for example sqlite:./data/oruel.db, or sqlite::memory:) or postgres://USER@HOST:PORT/DATABASE.';

/** `sqlite:PATH` or `postgres://...` (also `postgresql://`). */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (/^sqlite:/i.test(trimmed)) {
    const path = trimmed.slice('sqlite:'.length);
    if (path === '') throw new DatabaseConfigError(`The database URL "sqlite:" names no file. ${ACCEPTED}`);
    return { dialect: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { dialect: 'postgres', connectionString: trimmed };
  throw new DatabaseConfigError(`Unsupported database URL scheme "${schemeOf(trimmed)}". ${ACCEPTED}`);
}

/** The URL as it may be shown in messages and logs: the password replaced by `***`. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Unparseable URLs are shown only up to their scheme, in case a secret follows it.
    return `${schemeOf(url)}:...`;
  }
}

function schemeOf(url: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  return match ? match[1]! : '(none)';
}
