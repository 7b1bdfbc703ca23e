import type { GatewayBenchSettings } from './run.js';

/** The gateway benchmark's table: each figure direct, through the byte pipe (the Node floor), through Oru-el; Oru-el against the goal. */
interface Row {
  name: string;
  direct: string;
  pipe: string;
  gateway: string;
  target: string;
  met: boolean | null;
  /** The same goal applied to the Node floor: a goal the byte pipe misses too is beyond any Node gateway here. */
  floorMet?: boolean;
}

const fixed = (value: number | undefined, digits = 1) =>
  value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
const signed = (value: number | undefined, digits: number) =>
  value !== undefined && value >= 0 ? `+${fixed(value, digits)}` : fixed(value, digits);

export function printGatewayReport(figures: Record<string, number>, settings: GatewayBenchSettings): void {
  const f = (name: string) => figures[name];
  const both = (name: string, format: (value: number | undefined) => string) => ({
    pipe: format(f(`pipe.${name}`)),
    gateway: format(f(`gateway.${name}`)),
  });
  type Party = 'gateway' | 'pipe';
  const atMost = (name: string, limit: number, party: Party = 'gateway') =>
    (f(`${party}.${name}`) ?? Infinity) <= limit;
  const atLeast = (name: string, limit: number, party: Party = 'gateway') => (f(`${party}.${name}`) ?? 0) >= limit;
  const slow = `${settings.slowStreams} streams, ${settings.slowTokenDelayMs} ms/token`;
  const rows: Row[] = [
    {
      name: 'TTFT, one stream at a time (ms)',
      direct: fixed(f('direct.ttftMs'), 2),
      ...both('ttftMs', (value) => fixed(value, 2)),
      target: '',
      met: null,
    },
    {
      name: '  added',
      direct: '',
      ...both('addedTtftMs', (value) => `${signed(value, 2)} ms`),
      target: '<= +0.7 ms',
      met: atMost('addedTtftMs', 0.7),
      floorMet: atMost('addedTtftMs', 0.7, 'pipe'),
    },
    {
      name: 'streams/s, 32 concurrent, instant upstream',
      direct: fixed(f('direct.streams32PerSecond')),
      ...both('streams32PerSecond', (value) => fixed(value)),
      target: '',
      met: null,
    },
    {
      name: '  ratio to direct',
      direct: '',
      ...both('streams32Ratio', (value) => `${fixed(value, 2)}x`),
      target: '>= 0.50x',
      met: atLeast('streams32Ratio', 0.5),
      floorMet: atLeast('streams32Ratio', 0.5, 'pipe'),
    },
    {
      name: `  content events per ${settings.tokens}-chunk stream`,
      direct: fixed(f('direct.contentEventsPerStream'), 0),
      ...both('contentEventsPerStream', (value) => fixed(value, 0)),
      target: '= direct (every chunk sent)',
      met: (f('gateway.contentEventsPerStream') ?? 0) >= (f('direct.contentEventsPerStream') ?? Infinity),
    },
    {
      name: `streams/s, ${slow} (tokens/s)`,
      direct: fixed(f('direct.slowTokensPerSecond')),
      ...both('slowTokensPerSecond', (value) => fixed(value)),
      target: '',
      met: null,
    },
    {
      name: '  ratio to direct',
      direct: '',
      ...both('slowRatio', (value) => `${fixed(value, 3)}x`),
      target: '>= 0.98x',
      met: atLeast('slowRatio', 0.98),
      floorMet: atLeast('slowRatio', 0.98, 'pipe'),
    },
    {
      name: `TTFT p50 / p99 at ${slow} (ms)`,
      direct: `${fixed(f('direct.slowTtftP50Ms'))} / ${fixed(f('direct.slowTtftP99Ms'))}`,
      pipe: `${fixed(f('pipe.slowTtftP50Ms'))} / ${fixed(f('pipe.slowTtftP99Ms'))}`,
      gateway: `${fixed(f('gateway.slowTtftP50Ms'))} / ${fixed(f('gateway.slowTtftP99Ms'))}`,
      target: '',
      met: null,
    },
    {
      name: '  added p50 / p99',
      direct: '',
      pipe: `${signed(f('pipe.slowAddedTtftP50Ms'), 1)} / ${signed(f('pipe.slowAddedTtftP99Ms'), 1)} ms`,
      gateway: `${signed(f('gateway.slowAddedTtftP50Ms'), 1)} / ${signed(f('gateway.slowAddedTtftP99Ms'), 1)} ms`,
      target: '<= +5 / +30 ms',
      met: atMost('slowAddedTtftP50Ms', 5) && atMost('slowAddedTtftP99Ms', 30),
      floorMet: atMost('slowAddedTtftP50Ms', 5, 'pipe') && atMost('slowAddedTtftP99Ms', 30, 'pipe'),
    },
    {
      name: 'non-streaming, 32 concurrent (requests/s)',
      direct: fixed(f('direct.completionsPerSecond')),
      ...both('completionsPerSecond', (value) => fixed(value)),
      target: '',
      met: null,
    },
    {
      name: '  ratio to direct',
      direct: '',
      ...both('nonStreamingRatio', (value) => `${fixed(value, 2)}x`),
      target: '>= 0.45x',
      met: atLeast('nonStreamingRatio', 0.45),
      floorMet: atLeast('nonStreamingRatio', 0.45, 'pipe'),
    },
    {
      name: `proxy CPU at ${settings.slowStreams} streams (% of a core)`,
      direct: '',
      ...both('slowCpuPercent', (value) => `${fixed(value, 0)} %`),
      target: "<= the floor's",
      met: (f('gateway.slowCpuPercent') ?? Infinity) <= (f('pipe.slowCpuPercent') ?? 0),
    },
    {
      name: `proxy CPU per ${settings.tokens}-chunk stream, instant`,
      direct: '',
      ...both('cpuPerInstantStreamMs', (value) => `${fixed(value, 3)} ms`),
      target: '',
      met: null,
    },
    {
      name: `proxy CPU per ${settings.tokens}-chunk stream, ${settings.slowTokenDelayMs} ms/token`,
      direct: '',
      ...both('cpuPerPacedStreamMs', (value) => `${fixed(value, 3)} ms`),
      target: '',
      met: null,
    },
    {
      name: 'proxy CPU per non-streaming request',
      direct: '',
      ...both('cpuPerCompletionMs', (value) => `${fixed(value, 3)} ms`),
      target: '',
      met: null,
    },
    {
      name: 'resident memory idle, fresh process under tsx',
      direct: '',
      ...both('idleRssMiB', (value) => `${fixed(value)} MiB`),
      target: '',
      met: null,
    },
    {
      name: '  `oruel serve`, gateway-only config (compiled)',
      direct: '',
      pipe: '',
      gateway: `${fixed(f('gateway.cliIdleRssMiB'))} MiB`,
      target: '<= 100 MiB',
      met: atMost('cliIdleRssMiB', 100),
    },
    {
      name: `memory per open stream, RSS (${settings.idleStreams} idle)`,
      direct: '',
      ...both('memoryPerOpenStreamKiB', (value) => `${fixed(value)} KiB`),
      target: '<= 32 KiB',
      met: atMost('memoryPerOpenStreamKiB', 32),
      floorMet: atMost('memoryPerOpenStreamKiB', 32, 'pipe'),
    },
    {
      name: '  of which JS heap',
      direct: '',
      ...both('heapPerOpenStreamKiB', (value) => `${fixed(value)} KiB`),
      target: '',
      met: null,
    },
  ];
  const header: Row = {
    name: 'figure',
    direct: 'direct',
    pipe: 'Node floor',
    gateway: 'Oru-el',
    target: 'goal (Oru-el)',
    met: null,
  };
  const all = [header, ...rows];
  const width = (key: 'name' | 'direct' | 'pipe' | 'gateway' | 'target') =>
    Math.max(...all.map((row) => row[key].length));
  const line = (row: Row) =>
    [
      row.name.padEnd(width('name')),
      row.direct.padStart(width('direct')),
      row.pipe.padStart(width('pipe')),
      row.gateway.padStart(width('gateway')),
      row.target.padEnd(width('target')),
      verdict(row),
    ].join('  ');
  process.stdout.write(
    [
      `Gateway: fake upstream direct, through the Node floor (key check + byte pipe, no parsing) and through Oru-el (auth + ledger on);`,
      `medians of ${settings.rounds} rotating interleaved rounds, ${settings.tokens} content chunks per response; goals are issue 10's`,
      line(header),
      ...rows.map(line),
      '',
    ].join('\n'),
  );
}

/** Oru-el's verdict, and the floor's where it misses the same goal (no Node gateway can meet that one on this machine). */
function verdict(row: Row): string {
  if (row.met === null) return '';
  const ours = row.met ? 'ok' : 'MISSED';
  return row.floorMet === false ? `${ours} (floor: missed)` : ours;
}
