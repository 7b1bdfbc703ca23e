import { openDatabase, type Database } from './database.js';

/** Opens the database, runs `work` and closes it whatever happened: the shape of every CLI command. */
export async function withDatabase<T>(url: string, work: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(url);
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}
