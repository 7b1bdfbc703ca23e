import type { Figures } from './figures.js';
import type { Summary } from './stats.js';

/** The human-readable table, then one JSON line with every figure (the last line of output). */
export function printReport(f: Figures): void {
  const out: string[] = [];
  out.push(
    '',
    `Oru-el bench: ${f.model}, ${f.tokens} tokens/request, ${f.rounds} rounds, ${f.threads} thread(s), K=${f.sequences} sequences, context ${f.contextSize}/sequence`,
    `prompt ${JSON.stringify(f.prompt)} via ${f.chatWrapper}; client: ${f.client}`,
    `completion_tokens  direct ${counts(f.completionTokens.direct)}  server ${counts(f.completionTokens.server)}  ` +
      `(finish: direct ${f.finishReasons.direct.join('/')}, server ${f.finishReasons.server.join('/')})` +
      (f.completionTokens.allEqualTokens
        ? `  all = ${f.tokens}`
        : `  MISMATCH: not every request produced ${f.tokens}`),
    '',
    row('', ['median', 'p90', 'min', 'max']),
    '1. tokens/s, end to end (call -> last token)',
    summaryRow('   direct', f.throughput.direct, 0),
    summaryRow('   server (HTTP+SSE)', f.throughput.server, 0),
    summaryRow('   embedded floor (bare node:http + SSE)', f.throughput.floor, 0),
    `   ratio server/direct: ${fixed(f.throughput.ratio, 3)} (of medians; target >= ${f.throughput.target}: ${f.throughput.meetsTarget ? 'met' : 'NOT met'}),` +
      ` ${fixed(f.throughput.pairedRatioMedian, 3)} (median of interleaved pairs)`,
    `   ratio floor/direct: ${fixed(f.throughput.floorRatio, 3)} (a bare HTTP server around the direct call, same client, same rounds;` +
      ` target ${f.throughput.floorRatio >= f.throughput.target ? 'met' : 'NOT met'} by the floor)`,
    '   tokens/s, decode only (first -> last text)',
    summaryRow('   direct', f.decode.direct, 0),
    summaryRow('   server', f.decode.server, 0),
    `   ratio server/direct: ${fixed(f.decode.ratio, 3)}`,
    '2. time to first token, ms',
    summaryRow('   direct (call -> first onTextChunk)', f.ttftMs.direct, 2),
    summaryRow('   server (send -> first content chunk)', f.ttftMs.server, 2),
    summaryRow('   embedded floor (send -> first chunk)', f.ttftMs.floor, 2),
    '   CPU ms per request, all threads (less sensitive to a busy machine than wall time)',
    summaryRow('   direct (this process)', f.cpuMsPerRequest.direct, 1),
    summaryRow('   server process', f.cpuMsPerRequest.server, 1),
    summaryRow('   client (this process, fetch + SSE)', f.cpuMsPerRequest.client, 1),
    summaryRow('   embedded floor process', f.cpuMsPerRequest.floor, 1),
    `   server - direct: ${fixed(f.cpuMsPerRequest.serverExtraUsPerToken, 1)} us of CPU per token (medians);` +
      ` floor - direct: ${fixed(f.cpuMsPerRequest.floorExtraUsPerToken, 1)} us`,
    '3. aggregate tokens/s through the server',
  );
  for (const level of f.aggregate) {
    out.push(summaryRow(`   ${level.streams} stream${level.streams === 1 ? '' : 's'}`, level.tokensPerSecond, 0));
    out.push(summaryRow(`     TTFT ms per stream`, level.streamTtftMs, 2));
  }
  const growth = f.serverRssMiB.after - f.serverRssMiB.before;
  out.push(
    `4. server RSS: before ${fixed(f.serverRssMiB.before, 1)} MiB, after ${fixed(f.serverRssMiB.after, 1)} MiB (${growth >= 0 ? '+' : ''}${fixed(growth, 1)} MiB)`,
    `   server CPU while the direct rounds ran: ${fixed(f.serverCpuDuringDirectMs, 1)} ms (should be ~0: the direct side ran alone)`,
    `5. TTFT over direct: ${f.addedTtftMs >= 0 ? '+' : ''}${fixed(f.addedTtftMs, 2)} ms (medians; goal <= +1.5 ms: ${f.addedTtftMs <= 1.5 ? 'met' : 'NOT met'});` +
      ` the embedded floor's: ${f.floorAddedTtftMs >= 0 ? '+' : ''}${fixed(f.floorAddedTtftMs, 2)} ms`,
    `6. token leave latency inside the server (engine pushed it -> written to the socket), ${f.tokenLeaveMs.n} tokens:`,
    `   p50 ${fixed(f.tokenLeaveMs.p50, 3)} ms, p99 ${fixed(f.tokenLeaveMs.p99, 3)} ms, max ${fixed(f.tokenLeaveMs.max, 3)} ms; ${fixed(100 * f.tokenLeaveMs.withinOneMs, 2)} % within 1 ms (goal p99 <= 1 ms: ${f.tokenLeaveMs.p99 <= 1 ? 'met' : 'NOT met'})`,
    ...(f.profiled ? ["   NOTE: the server ran under --cpu-prof; its figures include the profiler's cost."] : []),
    '',
  );
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify(f, (_key, value: unknown) => (typeof value === 'number' ? round(value) : value))}\n`,
  );
}

const LABEL_WIDTH = 42;
const COLUMN_WIDTH = 10;

function row(label: string, cells: string[]): string {
  return label.padEnd(LABEL_WIDTH) + cells.map((cell) => cell.padStart(COLUMN_WIDTH)).join('');
}

function summaryRow(label: string, summary: Summary, digits: number): string {
  return row(
    label,
    [summary.median, summary.p90, summary.min, summary.max].map((value) => fixed(value, digits)),
  );
}

function counts(values: readonly number[]): string {
  const tally = new Map<number, number>();
  for (const value of values) tally.set(value, (tally.get(value) ?? 0) + 1);
  return [...tally].map(([value, count]) => `${value}x${count}`).join(',');
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const round = (value: number): number | null => (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null);
