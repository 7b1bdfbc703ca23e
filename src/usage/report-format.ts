import type { UsageTotalsRow } from './ledger.js';

export const REPORT_FORMATS = ['table', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

export type Cell = string | number;

/** Shown for requests made without a key (auth disabled). */
const NO_KEY = '(none)';

const TOTALS_COLUMNS = [
  'key',
  'model',
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'completed',
  'cancelled',
  'errors',
];

/** The totals as text ending in a newline; JSON keeps null for requests without a key. */
export function formatTotals(rows: UsageTotalsRow[], format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  const cells = rows.map(totalsCells);
  if (format === 'csv') return formatCsv(TOTALS_COLUMNS, cells);
  return rows.length === 0 ? 'No usage recorded for this selection.\n' : formatTable(TOTALS_COLUMNS, cells);
}

function totalsCells(row: UsageTotalsRow): Cell[] {
  return [
    row.keyId ?? NO_KEY,
    row.model,
    row.requests,
    row.promptTokens,
    row.completionTokens,
    row.totalTokens,
    row.completed,
    row.cancelled,
    row.errors,
  ];
}

/**
 * Columns padded to their widest cell, numbers right-aligned. Control characters are replaced:
 * model names come from clients, and escape sequences must not reach the operator's terminal.
 */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const text = [headers, ...rows].map((row) => row.map((cell) => printable(String(cell))));
  const widths = headers.map((_, column) => Math.max(...text.map((row) => row[column]?.length ?? 0)));
  const rightAligned = headers.map(
    (_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'),
  );
  const lines = text.map((row) =>
    row
      .map((cell, column) => (rightAligned[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/**
 * RFC 4180: CRLF line ends; fields with a comma, quote, CR or LF are quoted, quotes doubled.
 * Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
 * leading `'`, since model names are chosen by clients (OWASP "CSV injection"); numbers are kept.
 */
export function formatCsv(headers: string[], rows: Cell[][]): string {
  return [headers, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function csvField(cell: Cell): string {
  const text = typeof cell === 'number' ? String(cell) : defuseFormula(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function defuseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
