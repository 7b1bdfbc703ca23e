import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

export interface SpawnedCliResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs the real CLI entry point as an operator would (`npx tsx src/cli/index.ts ...`, minus npx's
 * lookup), against one database (null: the default one) and with no other ORUEL_* variable from the
 * test's environment.
 */
export function spawnCli(
  args: string[],
  databaseUrl: string | null,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<SpawnedCliResult> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORUEL_')));
  const database = databaseUrl === null ? {} : { ORUEL_DATABASE_URL: databaseUrl };
  // Absolute paths, so a test may run the CLI from another working directory.
  const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'src/cli/index.ts'), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...inherited, ...database, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}
