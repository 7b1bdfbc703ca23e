export type RequestOutcome = 'completed' | 'cancelled' | 'error';

/** One row per chat request, written whatever happened to it. */
export interface LedgerRecord {
  requestId: string;
  keyId: string | null;
  /** The public model name the client asked for. */
  model: string;
  /** The engine that served it ("llama-cpp/stories260K"), null when none was reached. */
  engine: string | null;
  stream: boolean;
  promptTokens: number;
  completionTokens: number;
  /** `engine`: reported by the backend; `counted`: counted by Oru-el; `none`: no work was done. */
  usageSource: 'engine' | 'counted' | 'none';
  /** The first choice's finish reason (`stop`, `length`, `tool_calls`), when it finished. */
  finishReason: string | null;
  outcome: RequestOutcome;
  /** The wire error code when the outcome is `error`. */
  errorCode: string | null;
  /** The HTTP status sent. */
  status: number;
  ttftMs: number | null;
  durationMs: number;
  startedAt: Date;
  finishedAt: Date;
}

export interface UsageQuery {
  keyId?: string;
  model?: string;
  since?: Date;
  until?: Date;
}

export interface UsageTotalsRow {
  keyId: string | null;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  completed: number;
  cancelled: number;
  errors: number;
}

export type SeriesBucket = 'hour' | 'day';

/** Totals of one key and model within one UTC hour or day. */
export interface UsageSeriesRow extends UsageTotalsRow {
  /** Start of the bucket (UTC). */
  start: Date;
}

/** Nearest-rank percentiles in milliseconds; null when no request was measured. */
export interface LatencyPercentiles {
  samples: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface LatencyRow {
  model: string;
  /** Time to first token of completed requests. */
  ttftMs: LatencyPercentiles;
  /** Whole-request duration of completed requests. */
  durationMs: LatencyPercentiles;
}

export interface Ledger {
  /** Queues the record; never blocks or throws on the request path. */
  record(entry: LedgerRecord): void;
  /** Resolves once every queued record is stored. */
  flush(): Promise<void>;
  /** Totals per key and model. */
  totals(query: UsageQuery): Promise<UsageTotalsRow[]>;
  /** Totals per UTC hour or day, key and model, oldest bucket first. */
  series(query: UsageQuery, bucket: SeriesBucket): Promise<UsageSeriesRow[]>;
  /** TTFT and latency percentiles per model. */
  latency(query: UsageQuery): Promise<LatencyRow[]>;
  /** Raw rows, newest first (tests and exports). */
  rows(query: UsageQuery & { limit?: number }): Promise<LedgerRecord[]>;
  close(): Promise<void>;
}
