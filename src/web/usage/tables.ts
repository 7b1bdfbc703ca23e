import { el, formatNumber } from '../common/dom.js';
import { keyLabel, type KeySummary, type LatencyRow, type Percentiles, type Totals } from './admin-api.js';

type Cell = string | number;

/** A table whose first `textColumns` columns are text (left) and the rest figures (right); on phones each row becomes a card of "header: value" lines. */
function table(
  caption: string,
  headers: string[],
  textColumns: number,
  rows: Cell[][],
  emptyText: string,
): HTMLElement {
  const align = (position: number) => (position < textColumns ? 'text' : 'num');
  const head = el(
    'tr',
    {},
    ...headers.map((header, position) => el('th', { scope: 'col', class: align(position) }, header)),
  );
  const body = rows.map((row) =>
    el(
      'tr',
      {},
      ...row.map((cell, position) =>
        el(
          'td',
          { class: align(position), 'data-label': headers[position] ?? '' },
          typeof cell === 'number' ? formatNumber(cell) : cell,
        ),
      ),
    ),
  );
  if (rows.length === 0) body.push(el('tr', {}, el('td', { colspan: headers.length, class: 'empty' }, emptyText)));
  return el(
    'div',
    { class: 'table-wrap' },
    el('table', {}, el('caption', {}, caption), el('thead', {}, head), el('tbody', {}, ...body)),
  );
}

/** Totals per key and model, keys by name, with a total row. */
export function totalsTable(totals: Totals[], keys: Map<string, KeySummary>): HTMLElement {
  const rows: Cell[][] = totals
    .map((row): Cell[] => [
      keyLabel(keys, row.keyId),
      row.model,
      row.requests,
      row.promptTokens,
      row.completionTokens,
      row.totalTokens,
      row.completed,
      row.cancelled,
      row.errors,
    ])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
  const headers = [
    'Key',
    'Model',
    'Requests',
    'Prompt tokens',
    'Completion tokens',
    'Total tokens',
    'Completed',
    'Cancelled',
    'Errors',
  ];
  return table('Requests and tokens per key and model', headers, 2, rows, 'No requests in this range.');
}

/** TTFT and whole-request latency percentiles per model (completed requests). */
export function latencyTable(latency: LatencyRow[]): HTMLElement {
  const ms = (value: number | null) => (value === null ? '–' : `${formatNumber(value)} ms`);
  const cells = (p: Percentiles) => [ms(p.p50), ms(p.p90), ms(p.p99)];
  const rows: Cell[][] = latency.map((row) => [
    row.model,
    row.durationMs.samples,
    ...cells(row.ttftMs),
    ...cells(row.durationMs),
  ]);
  const headers = ['Model', 'Samples', 'TTFT p50', 'TTFT p90', 'TTFT p99', 'Latency p50', 'Latency p90', 'Latency p99'];
  return table('Latency per model (completed requests)', headers, 1, rows, 'No completed requests in this range.');
}

export function summaryTiles(totals: Totals[]): HTMLElement[] {
  const sum = (pick: (row: Totals) => number) => totals.reduce((total, row) => total + pick(row), 0);
  const tiles: [string, number, string][] = [
    ['Requests', sum((row) => row.requests), 'requests'],
    ['Tokens', sum((row) => row.totalTokens), 'tokens'],
    ['Errors', sum((row) => row.errors), 'errors'],
    ['Cancelled', sum((row) => row.cancelled), 'cancelled'],
  ];
  return tiles.map(([label, value, id]) =>
    el(
      'div',
      { class: 'tile', id: `tile-${id}` },
      el('div', { class: 'tile-label' }, label),
      el('div', { class: 'tile-value' }, formatNumber(value)),
    ),
  );
}
