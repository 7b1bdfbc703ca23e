/**
 * `npm run bench [-- --rounds N | --quick]`: the embedded bench (server vs node-llama-cpp direct, the
 * token leave latency, the multi-turn table), then the gateway bench (direct, the Node floor, Oru-el),
 * in one run. `--quick`: 2 rounds each and short phases, a couple of minutes on two cores.
 * `--help` prints both benchmarks' options.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GATEWAY_USAGE } from './gateway/options.js';
import { USAGE } from './options.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(
    `npm run bench [-- --quick | --rounds N]: runs both benchmarks below.\n\n${USAGE}\n\n${GATEWAY_USAGE}\n`,
  );
  process.exit(0);
}
const quick = argv.includes('--quick');
const roundsAt = argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? argv[roundsAt + 1] : quick ? '2' : undefined;
if (roundsAt >= 0 && rounds === undefined) throw new Error('--rounds needs a value');
const rest = argv.filter((_, index) => index !== roundsAt && index !== roundsAt + 1 && argv[index] !== '--quick');

const run = (file: string, args: string[]) => {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args],
    { stdio: 'inherit' },
  );
  return result.status ?? 1;
};

const embedded = run('./run.ts', [
  ...(rounds ? ['--rounds', rounds] : []),
  ...(quick ? ['--tokens', '128'] : []),
  ...rest,
]);
const gateway = run('./gateway/main.ts', quick ? ['--quick'] : rounds ? ['--rounds', rounds] : []);
process.exitCode = embedded || gateway;
