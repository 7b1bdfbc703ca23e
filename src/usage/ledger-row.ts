import { MAX_INTEGER_COLUMN, type UsageLedgerTable } from '../storage/index.js';
import type { LedgerRecord, RequestOutcome } from './ledger.js';

/** Client-supplied text (the model name) is cut to this length; the ledger is not a blob store. */
const MAX_TEXT_LENGTH = 256;
const OUTCOMES: readonly RequestOutcome[] = ['completed', 'cancelled', 'error'];
const USAGE_SOURCES: readonly LedgerRecord['usageSource'][] = ['engine', 'counted', 'none'];

/**
 * The row for a record, made storable whatever the record holds: a row the database refuses would
 * block every record queued behind it, so odd values are coerced here rather than rejected there.
 */
export function toLedgerRow(record: LedgerRecord): UsageLedgerTable {
  return {
    request_id: text(record.requestId),
    key_id: optionalText(record.keyId),
    model: text(record.model),
    engine: optionalText(record.engine),
    stream: record.stream ? 1 : 0,
    prompt_tokens: count(record.promptTokens),
    completion_tokens: count(record.completionTokens),
    usage_source: record.usageSource,
    finish_reason: optionalText(record.finishReason),
    outcome: record.outcome,
    error_code: optionalText(record.errorCode),
    status: count(record.status),
    ttft_ms: record.ttftMs === null ? null : count(record.ttftMs),
    duration_ms: count(record.durationMs),
    started_at: millis(record.startedAt),
    finished_at: millis(record.finishedAt),
  };
}

export function fromLedgerRow(row: UsageLedgerTable): LedgerRecord {
  return {
    requestId: row.request_id,
    keyId: row.key_id,
    model: row.model,
    engine: row.engine,
    stream: row.stream === 1,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    usageSource: oneOf(USAGE_SOURCES, row.usage_source, 'usage_source'),
    finishReason: row.finish_reason,
    outcome: oneOf(OUTCOMES, row.outcome, 'outcome'),
    errorCode: row.error_code,
    status: row.status,
    ttftMs: row.ttft_ms,
    durationMs: row.duration_ms,
    startedAt: new Date(row.started_at),
    finishedAt: new Date(row.finished_at),
  };
}

/** Postgres refuses NUL characters in text; every other character is kept. */
function text(value: string): string {
  return String(value).replaceAll('\u0000', '').slice(0, MAX_TEXT_LENGTH);
}

function optionalText(value: string | null): string | null {
  return value === null || value === undefined ? null : text(value);
}

/** A whole number within a 32-bit integer column; NaN and negatives become 0. */
function count(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(Math.max(Math.round(value), 0), MAX_INTEGER_COLUMN);
}

function millis(date: Date): number {
  const time = date instanceof Date ? date.getTime() : Number.NaN;
  return Number.isFinite(time) ? time : Date.now();
}

function oneOf<T extends string>(allowed: readonly T[], value: string, column: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`usage_ledger.${column} holds an unknown value "${value}"`);
}
