import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Bucket, SeriesRow } from './admin-api.js';

const BUCKET_SECONDS: Record<Bucket, number> = { hour: 3600, day: 86_400 };
const PALETTE = ['#2457d6', '#d6542f', '#1f9d6b', '#9a3fd1', '#c98a00', '#0f8fb3', '#c2357a', '#5b6676'];
/** More groups than this become one "other" line: a chart with 30 lines shows nothing. */
const MAX_LINES = 7;

const WHOLE_STEPS = Array.from({ length: 30 }, (_, index) => [1, 2, 5][index % 3]! * 10 ** Math.floor(index / 3));

/** One observer per chart container, replaced when the chart is redrawn. */
const resizers = new WeakMap<HTMLElement, ResizeObserver>();

export type Metric = 'requests' | 'totalTokens' | 'failures';

/**
 * The buckets of the range (empty ones at 0) and one line per group (key or model), or for
 * `failures` two lines (errors, cancellations) over all groups.
 */
export function chartData(
  rows: SeriesRow[],
  range: { since: Date; until: Date },
  bucket: Bucket,
  groupOf: (row: SeriesRow) => string,
  metric: Metric,
): { labels: string[]; data: uPlot.AlignedData } {
  const step = BUCKET_SECONDS[bucket];
  const first = Math.floor(range.since.getTime() / 1000 / step) * step;
  const times: number[] = [];
  for (let time = first; time < range.until.getTime() / 1000; time += step) times.push(time);
  const index = new Map(times.map((time, position) => [time, position]));
  const columns = new Map<string, number[]>();
  const column = (label: string) => {
    let values = columns.get(label);
    if (!values) columns.set(label, (values = times.map(() => 0)));
    return values;
  };
  if (metric === 'failures') {
    column('errors');
    column('cancelled');
  }
  const totals = new Map<string, number>();
  for (const row of rows) totals.set(groupOf(row), (totals.get(groupOf(row)) ?? 0) + row.requests);
  const top = new Set(
    [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_LINES)
      .map(([label]) => label),
  );
  for (const row of rows) {
    const position = index.get(Date.parse(row.start) / 1000);
    if (position === undefined) continue;
    if (metric === 'failures') {
      column('errors')[position]! += row.errors;
      column('cancelled')[position]! += row.cancelled;
    } else {
      const label = top.has(groupOf(row)) ? groupOf(row) : 'other';
      column(label)[position]! += row[metric];
    }
  }
  const labels = [...columns.keys()];
  return { labels, data: [times, ...labels.map((label) => columns.get(label)!)] };
}

/** A uPlot line chart sized to its container, redrawn at the container's width when it changes. */
export function drawChart(container: HTMLElement, labels: string[], data: uPlot.AlignedData): uPlot {
  container.replaceChildren();
  const options: uPlot.Options = {
    width: chartWidth(container),
    height: 220,
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    scales: { y: { range: (_plot, _min, max) => [0, Math.max(1, max) * 1.1] } },
    // Counts are whole numbers: the y axis steps 1, 2, 5, 10, 20, 50, ... never 0.25.
    axes: [
      { stroke: '#5b6676', grid: { stroke: '#eef0f3' } },
      { stroke: '#5b6676', grid: { stroke: '#eef0f3' }, size: 56, incrs: WHOLE_STEPS },
    ],
    series: [
      { label: 'UTC' },
      ...labels.map((label, position) => ({
        label,
        stroke: PALETTE[position % PALETTE.length]!,
        width: 2,
        points: { size: 5 },
      })),
    ],
  };
  const plot = new uPlot(options, data, container);
  resizers.get(container)?.disconnect();
  const resizer = new ResizeObserver(() => {
    const width = chartWidth(container);
    if (width !== plot.width) plot.setSize({ width, height: 220 });
  });
  resizer.observe(container);
  resizers.set(container, resizer);
  return plot;
}

function chartWidth(container: HTMLElement): number {
  return Math.max(200, Math.floor(container.clientWidth));
}
