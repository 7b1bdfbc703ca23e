import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001_initial.js';
import * as keyBudgets from './0002_key_budgets.js';

/** Every migration, by name; names sort in the order they must run. Append, never edit. */
const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_key_budgets': keyBudgets,
};

/** Migrations compiled into the program, so a build never depends on files found at run time. */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
