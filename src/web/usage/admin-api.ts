import { errorFromResponse } from '../common/api-error.js';

export interface Totals {
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
export interface SeriesRow extends Totals {
  start: string;
}
export interface Percentiles {
  samples: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}
export interface LatencyRow {
  model: string;
  ttftMs: Percentiles;
  durationMs: Percentiles;
}
export interface KeySummary {
  id: string;
  name: string;
  prefix: string;
  revokedAt: string | null;
}
export type Bucket = 'hour' | 'day';

export interface UsageData {
  keys: Map<string, KeySummary>;
  totals: Totals[];
  series: SeriesRow[];
  latency: LatencyRow[];
}

/** Everything the dashboard shows for one range, from the admin API (the aggregates are the server's). */
export async function loadUsage(
  token: string,
  range: { since: Date; until: Date },
  bucket: Bucket,
): Promise<UsageData> {
  const query = `since=${encodeURIComponent(range.since.toISOString())}&until=${encodeURIComponent(range.until.toISOString())}`;
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`/v1/admin${path}`, { headers: { Authorization: `Bearer ${token}` } });
    if (!response.ok) throw await errorFromResponse(response);
    return (await response.json()) as T;
  };
  const [keys, totals, series, latency] = await Promise.all([
    get<{ data: KeySummary[] }>('/keys'),
    get<{ data: Totals[] }>(`/usage?${query}`),
    get<{ data: SeriesRow[] }>(`/usage/series?${query}&bucket=${bucket}`),
    get<{ data: LatencyRow[] }>(`/usage/latency?${query}`),
  ]);
  return {
    keys: new Map(keys.data.map((key) => [key.id, key])),
    totals: totals.data,
    series: series.data,
    latency: latency.data,
  };
}

/** "alice (key_ab12…)"; "(no key)" for requests made with authentication off. */
export function keyLabel(keys: Map<string, KeySummary>, keyId: string | null): string {
  if (keyId === null) return '(no key)';
  const key = keys.get(keyId);
  return key ? `${key.name}${key.revokedAt ? ' (revoked)' : ''}` : keyId;
}
