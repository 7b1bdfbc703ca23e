import '../common/base.css';
import './usage.css';
import { ApiError } from '../common/api-error.js';
import { byId } from '../common/dom.js';
import { loadSetting, saveSetting } from '../common/storage.js';
import { keyLabel, loadUsage, type Bucket, type SeriesRow, type UsageData } from './admin-api.js';
import { chartData, drawChart, type Metric } from './charts.js';
import { download, seriesCsv } from './csv.js';
import { latencyTable, summaryTiles, totalsTable } from './tables.js';

/** Kept for this tab only: the admin token can do everything, so it does not outlive the session. */
const TOKEN_SETTING = 'oruel.usage.adminToken';
const DAY_MS = 86_400_000;

const tokenInput = byId<HTMLInputElement>('admin-token');
const rangeSelect = byId<HTMLSelectElement>('range');
const sinceInput = byId<HTMLInputElement>('since');
const untilInput = byId<HTMLInputElement>('until');
const bucketSelect = byId<HTMLSelectElement>('bucket');
const groupSelect = byId<HTMLSelectElement>('group');
const statusLine = byId('status');
const exportButton = byId<HTMLButtonElement>('export');

let shown: { data: UsageData; range: { since: Date; until: Date }; bucket: Bucket } | null = null;

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  statusLine.textContent = text;
  statusLine.className = `status ${kind}`;
}

/** The chosen range: a preset ending now, or whole UTC days from the date inputs (until inclusive). */
function chosenRange(): { since: Date; until: Date } {
  const now = Date.now();
  const preset = rangeSelect.value;
  if (preset !== 'custom') return { since: new Date(now - Number(preset) * 3_600_000), until: new Date(now) };
  const since = Date.parse(`${sinceInput.value}T00:00:00Z`);
  const until = Date.parse(`${untilInput.value}T00:00:00Z`) + DAY_MS;
  if (!Number.isFinite(since) || !Number.isFinite(until)) throw new Error('Choose both dates of the custom range.');
  if (since >= until) throw new Error('The range must start before it ends.');
  return { since: new Date(since), until: new Date(until) };
}

function syncRangeInputs(): void {
  const custom = rangeSelect.value === 'custom';
  sinceInput.disabled = !custom;
  untilInput.disabled = !custom;
  if (!custom) {
    const { since, until } = chosenRange();
    sinceInput.value = since.toISOString().slice(0, 10);
    untilInput.value = until.toISOString().slice(0, 10);
    bucketSelect.value = Number(rangeSelect.value) > 48 ? 'day' : 'hour';
  }
}

async function refresh(): Promise<void> {
  const token = tokenInput.value.trim();
  saveSetting(sessionStorage, TOKEN_SETTING, token);
  if (!token) {
    setStatus('Enter the admin token (ORUEL_ADMIN_TOKEN) to see usage.');
    return;
  }
  let range: { since: Date; until: Date };
  try {
    range = chosenRange();
  } catch (error) {
    setStatus((error as Error).message, 'error');
    return;
  }
  const bucket = bucketSelect.value as Bucket;
  setStatus('Loading…');
  try {
    const data = await loadUsage(token, range, bucket);
    shown = { data, range, bucket };
    render();
    setStatus(
      `${range.since.toISOString().slice(0, 16).replace('T', ' ')} – ${range.until.toISOString().slice(0, 16).replace('T', ' ')} UTC, per ${bucket}`,
    );
  } catch (error) {
    setStatus(error instanceof ApiError ? error.describe() : String(error), 'error');
  }
}

function render(): void {
  if (!shown) return;
  const { data, range, bucket } = shown;
  const byKey = groupSelect.value === 'key';
  const groupOf = (row: SeriesRow) => (byKey ? keyLabel(data.keys, row.keyId) : row.model);
  byId('tiles').replaceChildren(...summaryTiles(data.totals));
  const charts: [string, Metric][] = [
    ['chart-requests', 'requests'],
    ['chart-tokens', 'totalTokens'],
    ['chart-failures', 'failures'],
  ];
  for (const [id, metric] of charts) {
    const { labels, data: aligned } = chartData(data.series, range, bucket, groupOf, metric);
    drawChart(byId(id), labels, aligned);
  }
  byId('totals').replaceChildren(totalsTable(data.totals, data.keys));
  byId('latency').replaceChildren(latencyTable(data.latency));
  exportButton.disabled = false;
}

tokenInput.value = loadSetting(sessionStorage, TOKEN_SETTING);
rangeSelect.addEventListener('change', syncRangeInputs);
groupSelect.addEventListener('change', render);
byId('controls').addEventListener('submit', (event) => {
  event.preventDefault();
  void refresh();
});
exportButton.addEventListener('click', () => {
  if (!shown) return;
  const name = `oruel-usage-${shown.bucket}-${shown.range.since.toISOString().slice(0, 10)}.csv`;
  download(name, seriesCsv(shown.data.series, shown.data.keys), 'text/csv');
});
syncRangeInputs();
if (tokenInput.value) void refresh();
else setStatus('Enter the admin token (ORUEL_ADMIN_TOKEN) to see usage.');
