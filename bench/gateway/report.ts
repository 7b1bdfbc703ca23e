import type { GatewayBenchSettings } from './run.js';

/** The gateway benchmark's table: each figure direct, through the byte pipe, through Oru-el; Oru-el against its target. */
interface Row {
  name: string;
  direct: string;
  pipe: string;
  gateway: string;
  target: string;
  met: boolean | null;
}

const fixed = (value: number | undefined, digits = 1) => (value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const signed = (value: number | undefined, digits: number) => (value !== undefined && value >= 0 ? `+${fixed(value, digits)}` : fixed(value, digits));

export function printGatewayReport(figures: Record<string, number>, settings: GatewayBenchSettings): void {
  const f = (name: string) => figures[name];
  const both = (name: string, format: (value: number | undefined) => string) => ({ pipe: format(f(`pipe.${name}`)), gateway: format(f(`gateway.${name}`)) });
  const atMost = (name: string, limit: number) => (f(`gateway.${name}`) ?? Infinity) <= limit;
  const atLeast = (name: string, limit: number) => (f(`gateway.${name}`) ?? 0) >= limit;
  const rows: Row[] = [
    { name: 'time to first token, one at a time (ms)', direct: fixed(f('direct.ttftMs'), 2), ...both('ttftMs', (value) => fixed(value, 2)), target: '', met: null },
    { name: '  added', direct: '', ...both('addedTtftMs', (value) => `${signed(value, 2)} ms`), target: '<= +1.0 ms', met: atMost('addedTtftMs', 1) },
    { name: '32 streams, instant upstream (streams/s)', direct: fixed(f('direct.streams32PerSecond')), ...both('streams32PerSecond', (value) => fixed(value)), target: '', met: null },
    { name: '  ratio to direct', direct: '', ...both('streams32Ratio', (value) => `${fixed(value, 2)}x`), target: '>= 0.50x', met: atLeast('streams32Ratio', 0.5) },
    { name: `${settings.slowStreams} streams, ${settings.slowTokenDelayMs} ms/token (tokens/s)`, direct: fixed(f('direct.slowTokensPerSecond')), ...both('slowTokensPerSecond', (value) => fixed(value)), target: '', met: null },
    { name: '  ratio to direct', direct: '', ...both('slowRatio', (value) => `${fixed(value, 3)}x`), target: '>= 0.98x', met: atLeast('slowRatio', 0.98) },
    { name: '  p99 time to first token (ms)', direct: fixed(f('direct.slowTtftP99Ms')), ...both('slowTtftP99Ms', (value) => fixed(value)), target: '', met: null },
    { name: '  added p99', direct: '', ...both('slowAddedTtftP99Ms', (value) => `${signed(value, 1)} ms`), target: '<= +50 ms', met: atMost('slowAddedTtftP99Ms', 50) },
    { name: 'non-streaming, 32 concurrent (requests/s)', direct: fixed(f('direct.completionsPerSecond')), ...both('completionsPerSecond', (value) => fixed(value)), target: '', met: null },
    { name: '  ratio to direct', direct: '', ...both('nonStreamingRatio', (value) => `${fixed(value, 2)}x`), target: '>= 0.30x', met: atLeast('nonStreamingRatio', 0.3) },
    { name: `memory per open stream, RSS (${settings.idleStreams} idle)`, direct: '', ...both('memoryPerOpenStreamKiB', (value) => `${fixed(value)} KiB`), target: '<= 40 KiB', met: atMost('memoryPerOpenStreamKiB', 40) },
    { name: '  of which JS heap', direct: '', ...both('heapPerOpenStreamKiB', (value) => `${fixed(value)} KiB`), target: '', met: null },
    { name: `proxy CPU per ${settings.tokens}-chunk stream, instant`, direct: '', ...both('cpuPerInstantStreamMs', (value) => `${fixed(value, 3)} ms`), target: '<= 0.8 ms', met: atMost('cpuPerInstantStreamMs', 0.8) },
    { name: `proxy CPU per ${settings.tokens}-chunk stream, paced`, direct: '', ...both('cpuPerPacedStreamMs', (value) => `${fixed(value, 3)} ms`), target: '(<= 0.8 ms)', met: null },
  ];
  const header: Row = { name: 'figure', direct: 'direct', pipe: 'byte pipe', gateway: 'Oru-el', target: 'target', met: null };
  const all = [header, ...rows];
  const width = (key: 'name' | 'direct' | 'pipe' | 'gateway' | 'target') => Math.max(...all.map((row) => row[key].length));
  const line = (row: Row) =>
    [row.name.padEnd(width('name')), row.direct.padStart(width('direct')), row.pipe.padStart(width('pipe')), row.gateway.padStart(width('gateway')), row.target.padEnd(width('target')), row.met === null ? '' : row.met ? 'ok' : 'MISSED'].join('  ');
  process.stdout.write(
    [
      `Gateway: fake upstream direct, through a byte pipe (key check, no parsing) and through Oru-el (auth + ledger on);`,
      `medians of ${settings.rounds} rotating interleaved rounds, ${settings.tokens} tokens per response; targets apply to Oru-el`,
      line(header),
      ...rows.map(line),
      '',
    ].join('\n'),
  );
}
