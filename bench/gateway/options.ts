import type { GatewayBenchOptions } from './run.js';

export const GATEWAY_USAGE = `npm run bench:gateway -- [--rounds N] [--phase-ms MS] [--cpu-prof DIR] [--no-metrics] [--quick]

  --rounds N       measured rounds per phase
  --phase-ms MS    length of each throughput phase in milliseconds
  --cpu-prof DIR   write V8 CPU profiles of the gateway process into DIR
  --no-metrics     turn Oru-el's /metrics bookkeeping off (to measure its cost)
  --quick          2 rounds, 1 s phases, 20 sequential requests (a smoke run)
  --help, -h       print this help`;

/** The gateway benchmark's flags; 'help' for --help/-h; an unknown flag or a missing value throws. */
export function parseGatewayArguments(argv: string[]): GatewayBenchOptions | 'help' {
  const options: GatewayBenchOptions = {};
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index];
    const value = () => {
      const next = argv[++index];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--rounds') options.rounds = Number(value());
    else if (flag === '--phase-ms') options.phaseMs = Number(value());
    else if (flag === '--cpu-prof') options.cpuProfDir = value();
    else if (flag === '--no-metrics') options.metrics = false;
    else if (flag === '--quick') Object.assign(options, { rounds: 2, phaseMs: 1_000, sequential: 20 });
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}
