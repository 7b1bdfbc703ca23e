/** The public face of src/usage/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export { BUCKET_MS } from './ledger-aggregates.js';
export { insertLedgerRows, selectUsageTotals } from './ledger-queries.js';
export type { LatencyRow, Ledger, LedgerRecord, UsageQuery, UsageSeriesRow, UsageTotalsRow } from './ledger.js';
export { postgresRowWriter } from './postgres-row-writer.js';
export { REPORT_FORMATS, formatTable, formatTotals, isReportFormat } from './report-format.js';
export { SqlLedger } from './sql-ledger.js';
export type { LedgerStats } from './sql-ledger.js';
export { sqliteRowWriter } from './sqlite-row-writer.js';
export type { LedgerRowWriter } from './sqlite-row-writer.js';
export { UsageMeter } from './usage-meter.js';
