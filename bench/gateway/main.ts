/**
 * `npx tsx bench/gateway/main.ts [--rounds N] [--phase-ms MS] [--cpu-prof DIR] [--no-metrics] [--quick]`: the gateway
 * benchmark on its own. Prints the table, then one JSON line with every figure.
 */
import { GATEWAY_USAGE, parseGatewayArguments } from './options.js';
import { runGatewayBench } from './run.js';

let parsed: ReturnType<typeof parseGatewayArguments>;
try {
  parsed = parseGatewayArguments(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${GATEWAY_USAGE}\n`);
  process.exit(2);
}
if (parsed === 'help') {
  process.stdout.write(`${GATEWAY_USAGE}\n`);
  process.exit(0);
}

runGatewayBench(parsed)
  .then((figures) => process.stdout.write(`${JSON.stringify(figures)}\n`))
  .catch((error: unknown) => {
    process.stderr.write(
      `gateway bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  });
