/**
 * `npm run bench`: the embedded benchmark, then the gateway benchmark, each in its own process.
 * `--help` prints both usages; options go to one of them (`npm run bench:embedded -- ...`).
 */
import { spawnSync } from 'node:child_process';
import { GATEWAY_USAGE } from './gateway/options.js';
import { REPO_ROOT, USAGE } from './options.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`npm run bench: runs both benchmarks below with their defaults.\n\n${USAGE}\n\n${GATEWAY_USAGE}\n`);
  process.exit(0);
}
if (args.length > 0) {
  process.stderr.write(`npm run bench takes no options (got ${args.join(' ')}); give them to one benchmark: npm run bench:embedded -- ... or npm run bench:gateway -- ... (--help lists them)\n`);
  process.exit(2);
}
for (const script of ['bench/run.ts', 'bench/gateway/main.ts']) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
