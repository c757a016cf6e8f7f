/**
 * The trend report over the run history: `history.json` (the data), `history.jsonl` (one record per
 * line, for any tool) and `history.html` (one offline file, charts drawn to static SVG at build
 * time like report.html). Each chart point is one run; figures across runs (the headline's, the
 * merged table's) come from the runs' merged histograms (merged.ts), never from their percentiles.
 */
import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml, ms, msDigits, percent, renderSvg, type Chart } from '../report';
import type { HistogramPercentiles } from '../stats';
import { mergedFigures, type MergedFigures, type MergedGroup } from './merged';
import type { HistoryRecord } from './record';
import type { HistoryRead, SkippedRecord } from './store';
import { trendTimeAxis } from './time-axis';

export const TREND_SCHEMA = 'feedpath.history-trend/1';
/** Written at the root of the store (beside `runs/` in the bucket, beside the run folders locally). */
export const TREND_FILES = { json: 'history.json', html: 'history.html', jsonl: 'history.jsonl' } as const;
/** Every chart a trend with paired runs has, in page order (tests check each one is drawn). */
export const TREND_CHART_IDS = ['delta-trend', 'median-trend', 'p99-trend', 'loss-trend'] as const;

export interface TrendSummary {
  runs: number;
  succeeded: number;
  failed: number;
  first_started_at: string | null;
  last_started_at: string | null;
  /** Runs with a paired median delta. */
  paired_runs: number;
  /** Paired runs whose median delta is below 0 with an interval that does not span 0 (and the converse). */
  backbone_faster_runs: number;
  baseline_faster_runs: number;
  no_significant_difference_runs: number;
  /**
   * The paired delta over every matched event of the succeeded runs with histograms (their merged
   * histograms, all configurations), ms; null when no run has one.
   */
  merged_delta_ms: HistogramPercentiles | null;
  /** Succeeded runs recorded before histograms: in the counts and the table, not in merged figures. */
  runs_without_histograms: number;
  /** The configurations in the history: `forwarder → receiver · streams`. */
  series: string[];
  /**
   * Per receiver of the multi-receiver runs (records with a `receiver`), the same counts: the
   * question is asked per place. Empty when every run had one receiver.
   */
  by_receiver: ReceiverTrend[];
}

/** One receiver's paired runs over the history (receiverOf names it). */
export interface ReceiverTrend {
  receiver: string;
  runs: number;
  paired_runs: number;
  backbone_faster_runs: number;
  baseline_faster_runs: number;
  no_significant_difference_runs: number;
}

export interface Trend {
  schema: typeof TREND_SCHEMA;
  generated_at: string;
  /** The store's root: a folder or an s3:// URL. */
  location: string;
  headline: string;
  summary: TrendSummary;
  /** Records that could not be read, with why. */
  skipped: SkippedRecord[];
  /** Percentiles across runs from their merged histograms: per configuration, overall and per week. */
  merged: MergedFigures;
  /**
   * Oldest first, without their histograms: those are in `merged`, the records and history.jsonl
   * (thousands of bins per run would make this file grow by megabytes a week).
   */
  runs: TrendRun[];
}

/** A record as history.json lists it. */
export type TrendRun = Omit<HistoryRecord, HistogramKey>;
type HistogramKey = 'baseline_histogram' | 'backbone_histogram' | 'paired_delta_histogram';

function withoutHistograms(record: HistoryRecord): TrendRun {
  const { baseline_histogram: _a, backbone_histogram: _b, paired_delta_histogram: _c, ...run } = record;
  return run;
}

/**
 * Where a record's receiver is: the region of a run with one receiver; the receiver's name in a run
 * with several, with its region when the name is not the region (`frankfurt`, locally).
 */
export function receiverOf(record: Pick<TrendRun, 'receiver' | 'receiver_region'>): string {
  const region = record.receiver_region;
  if (record.receiver === null) return region ?? '?';
  return region === null || region === record.receiver ? record.receiver : `${record.receiver} (${region})`;
}

/**
 * A run's configuration, which separates lines in the charts and the merged histograms: regions
 * (each receiver of a multi-receiver run its own) and streams.
 */
export function seriesOf(record: TrendRun): string {
  const streams = record.streams.length > 0 ? record.streams.join(',') : 'streams unknown';
  return `${record.forwarder_region ?? '?'} → ${receiverOf(record)} · ${streams}`;
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

/** How many of the records' paired runs the verdict called faster one way, the other, or neither. */
function pairedCounts(
  runs: readonly HistoryRecord[],
): Pick<
  TrendSummary,
  'paired_runs' | 'backbone_faster_runs' | 'baseline_faster_runs' | 'no_significant_difference_runs'
> {
  const paired = runs.filter((r) => r.paired_median_delta_ms !== null);
  // A run counts for a path when the verdict called it faster: a practical difference (older records,
  // written before the practical rule: a significant one).
  const significant = (r: HistoryRecord) =>
    r.paired_practical === null ? r.paired_significant !== false : r.paired_practical;
  return {
    paired_runs: paired.length,
    backbone_faster_runs: paired.filter((r) => (r.paired_median_delta_ms as number) < 0 && significant(r))
      .length,
    baseline_faster_runs: paired.filter((r) => (r.paired_median_delta_ms as number) > 0 && significant(r))
      .length,
    no_significant_difference_runs: paired.filter((r) => !significant(r) || r.paired_median_delta_ms === 0)
      .length,
  };
}

function byReceiver(runs: readonly HistoryRecord[]): ReceiverTrend[] {
  const groups = new Map<string, HistoryRecord[]>();
  for (const r of runs) {
    if (r.receiver === null) continue;
    const name = receiverOf(r);
    groups.set(name, [...(groups.get(name) ?? []), r]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([receiver, records]) => ({ receiver, runs: records.length, ...pairedCounts(records) }));
}

function summarize(runs: HistoryRecord[], merged: MergedFigures): TrendSummary {
  // The whole history's line: across configurations when there are several, else the one.
  const all = merged.overall[merged.overall.length - 1];
  return {
    runs: runs.length,
    succeeded: runs.filter((r) => r.status === 'succeeded').length,
    failed: runs.filter((r) => r.status === 'failed').length,
    first_started_at: runs[0]?.started_at ?? null,
    last_started_at: runs[runs.length - 1]?.started_at ?? null,
    ...pairedCounts(runs),
    merged_delta_ms: all?.paired_delta ?? null,
    runs_without_histograms: merged.runs_without_histograms,
    series: [...new Set(runs.map(seriesOf))].sort(),
    by_receiver: byReceiver(runs),
  };
}

function headlineOf(summary: TrendSummary, runs: HistoryRecord[]): string {
  if (runs.length === 0) return 'No run has been recorded yet.';
  const span =
    summary.first_started_at === null || summary.last_started_at === null
      ? ''
      : day(summary.first_started_at) === day(summary.last_started_at)
        ? ` on ${day(summary.first_started_at)}`
        : ` from ${day(summary.first_started_at)} to ${day(summary.last_started_at)}`;
  // A multi-receiver run has one record per receiver: the counts below are per record.
  const distinct = new Set(runs.map((r) => r.run_id)).size;
  const records =
    distinct === summary.runs ? '' : `${summary.runs.toLocaleString('en-US')} records (one per receiver), `;
  const parts = [
    `${distinct.toLocaleString('en-US')} run${distinct === 1 ? '' : 's'}${span} (${records}${summary.succeeded} succeeded, ${summary.failed} failed).`,
  ];
  if (summary.paired_runs > 0) {
    parts.push(
      `Backbone faster in ${summary.backbone_faster_runs} of ${summary.paired_runs} paired runs ` +
        `(baseline faster in ${summary.baseline_faster_runs}, no practical difference in ${summary.no_significant_difference_runs}).`,
    );
  }
  if (summary.by_receiver.length > 0) {
    const each = summary.by_receiver
      .filter((r) => r.paired_runs > 0)
      .map((r) => `${r.receiver} ${r.backbone_faster_runs} of ${r.paired_runs}`);
    if (each.length > 0) parts.push(`Backbone faster per receiver: ${each.join(', ')}.`);
  }
  const merged = summary.merged_delta_ms;
  const without = summary.runs_without_histograms;
  if (merged !== null) {
    parts.push(
      `Paired delta (backbone − baseline) over all ${merged.count.toLocaleString('en-US')} matched events of the runs, from their merged histograms: ` +
        `median ${ms(merged.p50, { sign: true })} ms, p99 ${ms(merged.p99, { sign: true })} ms` +
        `${without > 0 ? ` (${without} run${without === 1 ? '' : 's'} recorded before histograms not included)` : ''}.`,
    );
  } else if (summary.paired_runs > 0 && without > 0) {
    parts.push(`No figures across runs: the runs were recorded before histograms (see the table).`);
  }
  const latest = runs[runs.length - 1] as HistoryRecord;
  parts.push(
    latest.status === 'failed'
      ? `Latest run ${latest.run_id} failed: ${latest.cause ?? latest.error ?? 'no cause recorded'}`
      : `Latest run ${latest.run_id}: ${latest.verdict ?? 'no verdict'}`,
  );
  return parts.join(' ');
}

/** The trend's data (history.json) from the records read. */
export function buildTrend(read: HistoryRead, options: { location: string; now?: () => Date }): Trend {
  const merged = mergedFigures(read.records, seriesOf);
  const summary = summarize(read.records, merged);
  return {
    schema: TREND_SCHEMA,
    generated_at: (options.now ?? (() => new Date()))().toISOString(),
    location: options.location,
    headline: headlineOf(summary, read.records),
    summary,
    skipped: read.skipped,
    merged,
    runs: read.records.map(withoutHistograms),
  };
}

/** history.jsonl: one record per line, oldest first. */
export function formatHistoryJsonl(records: readonly HistoryRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

// ——— charts ———

/** The same colours as the run report's. */
const PATH_COLORS = { domain: ['baseline', 'backbone'], range: ['#d95f02', '#1b9e77'] };
const WIDTH = 720;
const HEIGHT = 240;
/** The runs' time axis, labelled for their spacing (time-axis.ts). */
function timeAxis(trend: Trend) {
  return trendTimeAxis(trend.runs.map((r) => r.started_at));
}

/** Tell configurations apart only when a chart draws more than one (a one-entry legend is noise). */
function seriesEncoding(values: readonly { series: unknown }[], channel: 'color' | 'strokeDash') {
  if (new Set(values.map((v) => v.series)).size <= 1) return {};
  return {
    [channel]: {
      field: 'series',
      type: 'nominal' as const,
      title: 'configuration',
      legend: { labelLimit: 400 },
    },
  };
}

function deltaChart(trend: Trend): TopLevelSpec | null {
  const paired = trend.runs.filter((r) => r.paired_median_delta_ms !== null);
  if (paired.length === 0) return null;
  const values = paired.map((r) => ({
    time: r.started_at,
    series: seriesOf(r),
    delta: r.paired_median_delta_ms,
    low: r.paired_delta_ci_low_ms,
    high: r.paired_delta_ci_high_ms,
  }));
  const withInterval = values.filter((v) => v.low !== null && v.high !== null);
  const failed = trend.runs.filter((r) => r.status === 'failed').map((r) => ({ time: r.started_at }));
  const color = seriesEncoding(values, 'color');
  const layer: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [];
  if (withInterval.length > 0) {
    layer.push({
      data: { values: withInterval },
      mark: { type: 'area', opacity: 0.25, color: '#7570b3' },
      encoding: {
        x: timeAxis(trend),
        y: { field: 'low', type: 'quantitative', title: 'median delta (ms)' },
        y2: { field: 'high' },
        ...color,
      },
    });
  }
  layer.push(
    {
      data: { values },
      mark: { type: 'line', color: '#7570b3', point: { size: 18 }, strokeWidth: 1.5 },
      encoding: {
        x: timeAxis(trend),
        y: { field: 'delta', type: 'quantitative', title: 'median delta (ms)' },
        ...color,
      },
    },
    {
      data: { values: [{ zero: 0 }] },
      mark: { type: 'rule', color: '#333', strokeDash: [4, 3] },
      encoding: { y: { field: 'zero', type: 'quantitative' } },
    },
  );
  if (failed.length > 0) {
    layer.push({
      data: { values: failed },
      mark: { type: 'rule', color: '#d62728', opacity: 0.6 },
      encoding: { x: timeAxis(trend) },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    title: {
      text: 'Paired median delta per run (backbone − baseline)',
      subtitle: `band: the run's 95% CI; below 0: backbone first${failed.length > 0 ? '; red rules: failed runs' : ''}`,
    },
    layer,
  };
}

function pathChart(
  trend: Trend,
  statistic: 'median' | 'p99',
  title: string,
  subtitle: string,
): TopLevelSpec | null {
  const values: { series: string; [field: string]: unknown }[] = [];
  for (const r of trend.runs) {
    for (const path of ['baseline', 'backbone'] as const) {
      const value = statistic === 'median' ? r[`${path}_median_ms`] : r[`${path}_p99_ms`];
      if (value !== null) values.push({ time: r.started_at, path, series: seriesOf(r), value });
    }
  }
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    title: { text: title, subtitle },
    data: { values },
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
    encoding: {
      x: timeAxis(trend),
      y: { field: 'value', type: 'quantitative', title: `${statistic} latency (ms)`, scale: { zero: false } },
      color: { field: 'path', type: 'nominal', scale: PATH_COLORS, title: 'path' },
      detail: { field: 'series' },
      ...seriesEncoding(values, 'strokeDash'),
    },
  };
}

function lossChart(trend: Trend): TopLevelSpec | null {
  const values: { series: string; [field: string]: unknown }[] = [];
  for (const r of trend.runs) {
    if (r.baseline_lost !== null)
      values.push({ time: r.started_at, path: 'baseline', series: seriesOf(r), lost: r.baseline_lost });
    if (r.backbone_lost !== null)
      values.push({ time: r.started_at, path: 'backbone', series: seriesOf(r), lost: r.backbone_lost });
  }
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    title: {
      text: 'Events lost per run',
      subtitle: 'gaps in the exchange ids (not measurable for bookTicker: no point)',
    },
    data: { values },
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
    encoding: {
      x: timeAxis(trend),
      y: { field: 'lost', type: 'quantitative', title: 'events lost' },
      color: { field: 'path', type: 'nominal', scale: PATH_COLORS, title: 'path' },
      detail: { field: 'series' },
      ...seriesEncoding(values, 'strokeDash'),
    },
  };
}

/** The scatter of the runs' paired delta against market activity; drawn when some run has both. */
export const MARKET_TREND_CHART_ID = 'delta-vs-market';

/**
 * Each run's paired median delta (with its interval) against the market's median events per second
 * during it: does the advantage hold when the market is busy? Log scale: quiet and busy runs differ
 * by orders of magnitude.
 */
function marketChart(trend: Trend): TopLevelSpec | null {
  const values = trend.runs
    .filter((r) => r.paired_median_delta_ms !== null && (r.market_events_per_s_median ?? 0) > 0)
    .map((r) => ({
      activity: r.market_events_per_s_median,
      delta: r.paired_median_delta_ms,
      low: r.paired_delta_ci_low_ms ?? r.paired_median_delta_ms,
      high: r.paired_delta_ci_high_ms ?? r.paired_median_delta_ms,
      burst: r.market_largest_burst,
      series: seriesOf(r),
    }));
  if (values.length === 0) return null;
  const x = {
    field: 'activity',
    type: 'quantitative' as const,
    title: 'market: median events per second during the run',
    scale: { type: 'log' as const },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    title: {
      text: 'Paired median delta against market activity (one point per run)',
      subtitle: "bar: the run's 95% CI; below 0: backbone first",
    },
    data: { values },
    layer: [
      {
        mark: { type: 'rule', color: '#7570b3', opacity: 0.5 },
        encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
      {
        mark: { type: 'point', filled: true, size: 40, color: '#7570b3' },
        encoding: {
          x,
          y: { field: 'delta', type: 'quantitative', title: 'median delta (ms)' },
          ...seriesEncoding(values, 'color'),
        },
      },
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: 'rule', color: '#333', strokeDash: [4, 3] },
        encoding: { y: { field: 'zero', type: 'quantitative' } },
      },
    ],
  };
}

/** The trend's charts that have data, rendered to SVG, in page order. */
export async function renderTrendCharts(trend: Trend): Promise<Chart[]> {
  const specs: [string, string, TopLevelSpec | null][] = [
    ['delta-trend', 'Paired median delta over time, with its 95% CI', deltaChart(trend)],
    [
      'median-trend',
      'Median one-way latency per path over time',
      pathChart(
        trend,
        'median',
        'Median latency per run (exchange E → receiver)',
        'one-way: includes the receiver clock error',
      ),
    ],
    [
      'p99-trend',
      'p99 one-way latency per path over time',
      pathChart(trend, 'p99', 'p99 latency per run (exchange E → receiver)', 'one-way, over every sample'),
    ],
    ['loss-trend', 'Events lost per path over time', lossChart(trend)],
    [MARKET_TREND_CHART_ID, 'Paired median delta against market activity', marketChart(trend)],
  ];
  const charts: Chart[] = [];
  for (const [id, title, spec] of specs) {
    if (spec !== null) charts.push({ id, title, svg: await renderSvg(spec) });
  }
  return charts;
}

// ——— history.html ———

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.3rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.headline{font-size:1.1rem;background:#f3f7f4;border-left:4px solid #1b9e77;padding:.8rem 1rem;margin:1rem 0}
.meta{color:#666;font-size:.9rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right;vertical-align:top;white-space:nowrap}
th{white-space:normal;min-width:4rem}.scroll{overflow-x:auto}
td.t{text-align:left}thead th{background:#f5f5f5}
tr.failed td{background:#fdf0f0}td.cause{color:#a11;min-width:16rem;max-width:28rem;text-align:left;white-space:normal}
figure.chart{margin:1rem 0}figure.chart svg{max-width:100%;height:auto}
figcaption{color:#666;font-size:.85rem}
ul.defs{font-size:.9rem;color:#444}
`;

function time(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function pair(a: number | null, b: number | null): string {
  return a === null && b === null ? '–' : `${ms(a)} / ${ms(b)}`;
}

function lost(value: number | null): string {
  return value === null ? '–' : value.toLocaleString('en-US');
}

function deltaCell(r: TrendRun): string {
  if (r.paired_median_delta_ms === null) return '–';
  const digits = msDigits(r.paired_median_delta_ms, r.paired_delta_ci_low_ms, r.paired_delta_ci_high_ms);
  const interval =
    r.paired_delta_ci_low_ms === null || r.paired_delta_ci_high_ms === null
      ? ''
      : ` (${ms(r.paired_delta_ci_low_ms, { digits })} … ${ms(r.paired_delta_ci_high_ms, { digits })})`;
  return `${ms(r.paired_median_delta_ms, { sign: true, digits })}${interval}`;
}

function runRow(r: TrendRun): string {
  const td = (text: string, className = '') =>
    `<td${className === '' ? '' : ` class="${className}"`}>${escapeHtml(text)}</td>`;
  const run =
    r.report === null
      ? escapeHtml(r.run_id)
      : `<a href="${escapeHtml(encodeURI(r.report))}" title="${escapeHtml(r.report)}">${escapeHtml(r.run_id)}</a>`;
  const status =
    r.status === 'failed'
      ? `<td class="cause">failed${r.error === null ? '' : ` (${escapeHtml(r.error)})`}${r.cause === null ? '' : `: ${escapeHtml(r.cause)}`}</td>`
      : td('succeeded', 't');
  return [
    `<tr class="${r.status}" data-run="${escapeHtml(r.run_id)}">`,
    td(time(r.started_at), 't'),
    `<td class="t">${run}</td>`,
    td(r.label ?? '', 't'),
    status,
    td(r.mode ?? '–', 't'),
    td(`${r.forwarder_region ?? '?'} → ${receiverOf(r)}`, 't'),
    td(r.streams.join(', '), 't'),
    td(deltaCell(r)),
    td(percent(r.backbone_first_share)),
    td(pair(r.baseline_median_ms, r.baseline_p99_ms)),
    td(pair(r.backbone_median_ms, r.backbone_p99_ms)),
    td(`${lost(r.baseline_lost)} / ${lost(r.backbone_lost)}`),
    td(pair(r.receiver_clock_error_bound_ms, r.forwarder_clock_error_bound_ms)),
    `</tr>`,
  ].join('');
}

function percentiles(p: HistogramPercentiles | null, sign = false): string {
  return p === null ? '–' : [p.p50, p.p99, p.p999].map((v) => ms(v, { sign })).join(' / ');
}

function mergedRow(g: MergedGroup): string {
  const cells = [
    g.series,
    g.week ?? 'all',
    g.merged_runs === g.runs ? `${g.runs}` : `${g.merged_runs} of ${g.runs}`,
    g.paired_delta === null ? '–' : g.paired_delta.count.toLocaleString('en-US'),
    percentiles(g.paired_delta, true),
    percentiles(g.baseline),
    percentiles(g.backbone),
  ];
  return `<tr>${cells.map((c, i) => `<td${i < 2 ? ' class="t"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`;
}

/** The figures across runs: per configuration overall, then per week; a note for runs left out. */
function mergedSection(trend: Trend): string {
  const groups = [...trend.merged.overall, ...trend.merged.weekly].filter((g) => g.merged_runs > 0);
  const without = trend.merged.runs_without_histograms;
  const note =
    without === 0
      ? ''
      : `<p class="meta" id="merged-note">${without} succeeded run(s) recorded before histograms are in the table of runs but not in these figures.</p>`;
  if (groups.length === 0) return note === '' ? '' : `<h2>Across runs</h2>${note}`;
  const head = [
    'configuration',
    'week of',
    'runs merged',
    'matched events',
    'paired delta p50 / p99 / p99.9 ms',
    'baseline p50 / p99 / p99.9 ms',
    'backbone p50 / p99 / p99.9 ms',
  ];
  return [
    `<h2>Across runs</h2>`,
    `<p class="meta">Percentiles of every event of the runs, from their merged histograms (0.5 % precision), not of the runs’ percentiles.</p>`,
    note,
    `<div class="scroll"><table id="merged"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${groups.map(mergedRow).join('\n')}\n</tbody></table></div>`,
  ].join('\n');
}

function figure(chart: Chart): string {
  return `<figure class="chart" data-chart="${escapeHtml(chart.id)}">${chart.svg}<figcaption>${escapeHtml(chart.title)}</figcaption></figure>`;
}

/** Renders history.html: the headline, the charts, the runs (newest first), the skipped records. */
export function renderTrendHtml(trend: Trend, charts: Chart[]): string {
  const head = [
    'started (UTC)',
    'run',
    'label',
    'status',
    'mode',
    'regions',
    'streams',
    'median delta ms (95% CI)',
    'backbone first',
    'baseline median / p99 ms',
    'backbone median / p99 ms',
    'lost baseline / backbone',
    'clock bound receiver / forwarder ms',
  ];
  const rows = [...trend.runs].reverse().map(runRow).join('\n');
  const parts = [
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>feedpath history</title><style>${STYLE}</style></head><body>`,
    `<h1>feedpath history</h1>`,
    `<p class="headline" id="headline">${escapeHtml(trend.headline)}</p>`,
    `<p class="meta">History: <code>${escapeHtml(trend.location)}</code> · ${trend.summary.runs} runs · generated ${escapeHtml(trend.generated_at)}</p>`,
    trend.skipped.length === 0
      ? ''
      : `<p class="meta" id="skipped-note">${trend.skipped.length} unreadable history record(s) skipped: see the end of the page.</p>`,
    charts.length === 0 ? '' : `<h2>Trends</h2>`,
    ...charts.map(figure),
    mergedSection(trend),
    `<h2>Runs</h2>`,
    trend.runs.length === 0
      ? `<p>No run has been recorded yet.</p>`
      : `<div class="scroll"><table id="runs"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${rows}\n</tbody></table></div>`,
    trend.skipped.length === 0
      ? ''
      : `<h2>Skipped records</h2><ul id="skipped">${trend.skipped
          .map((s) => `<li><code>${escapeHtml(s.location)}</code>: ${escapeHtml(s.reason)}</li>`)
          .join('')}</ul>`,
    `<h2>Definitions</h2>`,
    `<ul class="defs">${[
      'Each point is one run. The paired delta is backbone − baseline arrival of the same exchange event on the receiver’s clock (no clock-synchronisation error); a run’s point is its median, the band its 95% confidence interval (estimated over blocks of receive time).',
      'Median and p99 latencies are one-way (exchange event time E → receiver) and carry the clock error bounds shown in the table.',
      'A run counts as “backbone faster” when its verdict said so: its median delta is below 0, its interval does not span 0, and the difference is at least the practical threshold and beyond the A/A control’s noise (older records: the interval alone).',
      'Figures across runs (the headline’s and “Across runs”) are percentiles of every event of the succeeded runs, read from the sum of their histograms (log-spaced bins, 0.5 % relative precision; lib/stats/histogram.ts): a percentile of the runs’ percentiles is not the percentile of the data. Runs recorded before histograms are left out of them.',
      `Data: ${TREND_FILES.json} (this page’s data), ${TREND_FILES.jsonl} (one record per line), and one record per run under history/year=YYYY/month=MM/day=DD/.`,
    ]
      .map((d) => `<li>${escapeHtml(d)}</li>`)
      .join('')}</ul>`,
    `</body></html>`,
  ];
  return `${parts.filter((p) => p !== '').join('\n')}\n`;
}
