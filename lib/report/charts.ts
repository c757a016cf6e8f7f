/**
 * The report's charts: vega-lite specs rendered to static SVG at report time (no script in the page,
 * so report.html opens offline anywhere). Charts are fed summaries (quantile tables, bucketed time
 * series), never raw rows: a 10-million-row run draws as fast as a small one.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { TimePoint } from '../analysis/path';
import type { PathName } from '../samples';
import { upperBound } from '../stats';
import type { Report } from './model';
import { marketPanel } from './market-chart';
import {
  chartHead,
  DELTA_COLOR,
  PATH_COLOR,
  PATH_COLORS,
  renderChartSpecs,
  VEGA_LITE_SCHEMA,
  zeroRule,
  type Chart,
  type ChartSpecs,
} from './chart-kit';

export interface QuantileSeries {
  quantiles: Float64Array;
  count: number;
}

export interface ChartData {
  latency: Partial<Record<PathName, QuantileSeries>>;
  timeSeries: Partial<Record<PathName, TimePoint[]>>;
  delta: QuantileSeries | null;
  /** The Unix second TimePoint `t` is counted from (the analysis's ArrivalEpoch), to place the market on the same axis. */
  epochSecond?: number | undefined;
}

/** Every chart a full paired report has, in page order (tests check each one is drawn). */
export const CHART_IDS = [
  'latency-histogram',
  'latency-cdf',
  'latency-over-time',
  'paired-delta',
  'loss',
  'resources',
] as const;

const SIZE = { width: 640, height: 240 };
const HISTOGRAM_BINS = 60;
const CDF_POINTS = 500;
/** Histograms show this central range: the extreme tails would squash the body to one bar. */
const LOW_TAIL = 0.001;
const HIGH_TAIL = 0.999;

/** Fraction of the series at or below x, interpolated in the quantile table. */
function cdfAt(q: Float64Array, x: number): number {
  const k = q.length;
  if (x < (q[0] as number)) return 0;
  if (x >= (q[k - 1] as number)) return 1;
  const idx = upperBound(q, x);
  const lo = q[idx - 1] as number;
  const hi = q[idx] as number;
  const frac = hi > lo ? (x - lo) / (hi - lo) : 0;
  return (idx - 1 + frac) / (k - 1);
}

function quantileAt(q: Float64Array, p: number): number {
  return q[Math.round(p * (q.length - 1))] as number;
}

function histogramRows(series: Partial<Record<string, QuantileSeries>>): Record<string, unknown>[] {
  const entries = Object.entries(series).filter((e): e is [string, QuantileSeries] => e[1] !== undefined);
  if (entries.length === 0) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const [, s] of entries) {
    lo = Math.min(lo, quantileAt(s.quantiles, LOW_TAIL));
    hi = Math.max(hi, quantileAt(s.quantiles, HIGH_TAIL));
  }
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / HISTOGRAM_BINS;
  const rows: Record<string, unknown>[] = [];
  for (const [name, s] of entries) {
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      const start = lo + b * width;
      const end = start + width;
      const events = s.count * (cdfAt(s.quantiles, end) - cdfAt(s.quantiles, start));
      rows.push({ path: name, start, end, events: Math.round(events) });
    }
  }
  return rows;
}

function latencyHistogram(data: ChartData): TopLevelSpec | null {
  const values = histogramRows(data.latency);
  if (values.length === 0) return null;
  return {
    ...chartHead(SIZE, 'End-to-end latency (exchange E → receiver)', 'both paths overlaid; 0.1–99.9 % range'),
    data: { values },
    mark: { type: 'rect', opacity: 0.55 },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: 'latency (ms)', scale: { zero: false } },
      x2: { field: 'end' },
      y: { field: 'events', type: 'quantitative', title: 'events' },
      y2: { datum: 0 },
      color: PATH_COLOR,
    },
  };
}

function latencyCdf(data: ChartData): TopLevelSpec | null {
  const values: Record<string, unknown>[] = [];
  for (const [path, s] of Object.entries(data.latency)) {
    if (s === undefined) continue;
    for (let k = 0; k <= CDF_POINTS; k++) {
      const p = (k / CDF_POINTS) * HIGH_TAIL;
      values.push({ path, latency: quantileAt(s.quantiles, p), share: p });
    }
  }
  if (values.length === 0) return null;
  return {
    ...chartHead(SIZE, 'Latency CDF', 'share of events delivered within x ms (up to 99.9 %)'),
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'latency', type: 'quantitative', title: 'latency (ms)', scale: { zero: false } },
      y: { field: 'share', type: 'quantitative', title: 'share of events', axis: { format: '%' } },
      color: PATH_COLOR,
    },
  };
}

function latencyOverTime(report: Report, data: ChartData): TopLevelSpec | null {
  const all = Object.values(data.timeSeries).flatMap((points) => points ?? []);
  if (all.length === 0) return null;
  // Paired paths share the receiver's clock and one time axis; paths measured in separate runs
  // each start at 0.
  const shared = report.comparison === 'paired';
  const start = (points: TimePoint[]) => Math.min(...points.map((p) => p.t));
  const t0 = start(all);
  const values: Record<string, unknown>[] = [];
  for (const [path, points] of Object.entries(data.timeSeries)) {
    if (points === undefined || points.length === 0) continue;
    const origin = shared ? t0 : start(points);
    for (const p of points) {
      values.push({ path, t: p.t - origin, statistic: 'median', latency: p.median });
      values.push({ path, t: p.t - origin, statistic: 'p99', latency: p.p99 });
    }
  }
  const latency = {
    ...SIZE,
    title: { text: 'Latency over time', subtitle: 'median and p99 per time bucket (receiver arrival time)' },
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: {
        field: 't',
        type: 'quantitative',
        title: shared ? 'seconds since the first arrival' : "seconds since each path's first arrival",
      },
      y: { field: 'latency', type: 'quantitative', title: 'latency (ms)', scale: { zero: false } },
      color: PATH_COLOR,
      strokeDash: { field: 'statistic', type: 'nominal', title: 'statistic' },
      detail: { field: 'path' },
    },
  };
  // The market stacked under it on the same axis: E seconds placed with the arrivals' origin (an
  // event arrives its latency, ms, after E: the panels line up to the bar's second).
  const source = report.market?.source;
  const sourcePoints = source === undefined ? undefined : data.timeSeries[source];
  const originT = shared ? t0 : sourcePoints && sourcePoints.length > 0 ? start(sourcePoints) : undefined;
  const market =
    data.epochSecond === undefined || originT === undefined
      ? null
      : marketPanel(report, data.epochSecond + originT, SIZE.width);
  if (market === null) return { $schema: VEGA_LITE_SCHEMA, ...latency } as TopLevelSpec;
  return {
    $schema: VEGA_LITE_SCHEMA,
    vconcat: [latency, market],
    resolve: { scale: { x: 'shared', color: 'independent' } },
  } as TopLevelSpec;
}

function pairedDelta(data: ChartData): TopLevelSpec | null {
  if (data.delta === null) return null;
  const values = histogramRows({ delta: data.delta });
  return {
    ...chartHead(
      SIZE,
      'Paired delta per event (backbone − baseline arrival)',
      'same receiver clock; left of 0: backbone first; 0.1–99.9 % range',
    ),
    layer: [
      {
        data: { values },
        mark: { type: 'rect', color: DELTA_COLOR },
        encoding: {
          x: { field: 'start', type: 'quantitative', title: 'delta (ms)', scale: { zero: false } },
          x2: { field: 'end' },
          y: { field: 'events', type: 'quantitative', title: 'events' },
          y2: { datum: 0 },
        },
      },
      zeroRule('x'),
    ],
  };
}

function lossChart(report: Report): TopLevelSpec | null {
  const values: Record<string, unknown>[] = [];
  for (const path of ['baseline', 'backbone'] as PathName[]) {
    const summary = report.summaries[path];
    if (summary === null) continue;
    if (summary.events_lost !== null)
      values.push({ path, measure: 'events lost', events: summary.events_lost });
    values.push({ path, measure: 'duplicates', events: summary.duplicate_events });
    values.push({ path, measure: 'rows skipped', events: summary.skipped_rows });
    if (report.paired !== null) {
      values.push({
        path,
        measure: 'seen on this path only',
        events: path === 'baseline' ? report.paired.baseline_only : report.paired.backbone_only,
      });
    }
  }
  if (values.length === 0) return null;
  const encoding = {
    x: { field: 'measure', type: 'nominal' as const, title: null, sort: null, axis: { labelAngle: 0 } },
    xOffset: { field: 'path', type: 'nominal' as const, scale: { domain: PATH_COLORS.domain } },
    y: { field: 'events', type: 'quantitative' as const, title: 'events' },
  };
  return {
    ...chartHead(
      SIZE,
      'Loss, duplicates and unmatched events',
      'events lost from the exchange ids (not measurable for bookTicker)',
    ),
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          ...encoding,
          color: PATH_COLOR,
        },
      },
      {
        mark: { type: 'text', dy: -6, fontSize: 10 },
        encoding: { ...encoding, text: { field: 'events', type: 'quantitative', format: ',d' } },
      },
    ],
  };
}

function resourcesChart(report: Report): TopLevelSpec | null {
  const measures = [
    ['avg_cpu_pct', 'CPU (avg %)'],
    ['max_rss_mb', 'RSS (max MB)'],
    ['avg_msgs_per_s', 'messages/s (avg)'],
  ] as const;
  const values: Record<string, unknown>[] = [];
  for (const r of report.resources) {
    for (const [key, label] of measures) {
      const v = r[key];
      if (typeof v === 'number' && Number.isFinite(v))
        values.push({ agent: r.agent, measure: label, value: v });
    }
  }
  if (values.length === 0) return null;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: "Agents' resource use", subtitle: 'from metrics/<agent>.json' },
    data: { values },
    facet: { column: { field: 'measure', type: 'nominal', title: null, sort: measures.map((m) => m[1]) } },
    spec: {
      width: 180,
      height: 160,
      mark: { type: 'bar', color: '#4c78a8' },
      encoding: {
        x: { field: 'agent', type: 'nominal', title: null },
        y: { field: 'value', type: 'quantitative', title: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** The report's charts that have data, rendered to SVG, in page order. */
export async function renderCharts(report: Report, data: ChartData): Promise<Chart[]> {
  const specs: ChartSpecs = [
    ['latency-histogram', 'Latency histogram', latencyHistogram(data)],
    ['latency-cdf', 'Latency CDF', latencyCdf(data)],
    ['latency-over-time', 'Latency over time', latencyOverTime(report, data)],
    ['paired-delta', 'Paired delta', pairedDelta(data)],
    ['loss', 'Loss', lossChart(report)],
    ['resources', 'Resource use', resourcesChart(report)],
  ];
  return renderChartSpecs(specs);
}
