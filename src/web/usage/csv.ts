import { keyLabel, type SeriesRow, type KeySummary } from './admin-api.js';

const COLUMNS = [
  'bucket_start',
  'key_id',
  'key_name',
  'model',
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'completed',
  'cancelled',
  'errors',
];

/** The per-bucket rows as RFC 4180 CSV (CRLF, quotes doubled), key names beside their ids. */
export function seriesCsv(rows: SeriesRow[], keys: Map<string, KeySummary>): string {
  const lines = [COLUMNS.join(',')];
  for (const row of rows) {
    const cells = [
      row.start,
      row.keyId ?? '',
      row.keyId === null ? '' : keyLabel(keys, row.keyId),
      row.model,
      row.requests,
      row.promptTokens,
      row.completionTokens,
      row.totalTokens,
      row.completed,
      row.cancelled,
      row.errors,
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function csvCell(value: string | number): string {
  const text = String(value);
  // A leading = + - @ would be run as a formula by spreadsheets; a quote prefix keeps it text.
  const safe = /^[=+\-@]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function download(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
