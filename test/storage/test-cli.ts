import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface SpawnedCliResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs the real CLI entry point as an operator would (`npx tsx src/cli/index.ts ...`, minus npx's
 * lookup), against one database and with no other ORUEL_* variable from the test's environment.
 */
export function spawnCli(args: string[], databaseUrl: string): Promise<SpawnedCliResult> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORUEL_')));
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['src/cli/index.ts', ...args], { env: { ...inherited, ORUEL_DATABASE_URL: databaseUrl } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}
