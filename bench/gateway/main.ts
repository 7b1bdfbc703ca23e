/**
 * `npx tsx bench/gateway/main.ts [--rounds N] [--phase-ms MS] [--cpu-prof DIR] [--no-metrics] [--quick]`: the gateway
 * benchmark on its own. Prints the table, then one JSON line with every figure.
 */
import { runGatewayBench, type GatewayBenchOptions } from './run.js';

function parseArguments(argv: string[]): GatewayBenchOptions {
  const options: GatewayBenchOptions = {};
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index];
    const value = () => {
      const next = argv[++index];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === '--rounds') options.rounds = Number(value());
    else if (flag === '--phase-ms') options.phaseMs = Number(value());
    else if (flag === '--cpu-prof') options.cpuProfDir = value();
    else if (flag === '--no-metrics') options.metrics = false;
    else if (flag === '--quick') Object.assign(options, { rounds: 2, phaseMs: 1_000, sequential: 20 });
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

runGatewayBench(parseArguments(process.argv.slice(2)))
  .then((figures) => process.stdout.write(`${JSON.stringify(figures)}\n`))
  .catch((error: unknown) => {
    process.stderr.write(`gateway bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
