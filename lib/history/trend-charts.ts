/**
 * The trend report's charts: one point per run over time (the paired delta with its interval, each
 * path's median and p99, the events lost) and the delta against market activity, drawn to static
 * SVG at build time like report.html's.
 */
import type { TopLevelSpec } from 'vega-lite';
import {
  chartHead,
  DELTA_COLOR,
  PATH_COLOR,
  renderChartSpecs,
  zeroRule,
  type Chart,
  type ChartSpecs,
} from '../report';
import { seriesOf, type Trend } from './trend';
import { trendTimeAxis } from './time-axis';

/** Every chart a trend with paired runs has, in page order (tests check each one is drawn). */
export const TREND_CHART_IDS = ['delta-trend', 'median-trend', 'p99-trend', 'loss-trend'] as const;

const SIZE = { width: 720, height: 240 };
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
      mark: { type: 'area', opacity: 0.25, color: DELTA_COLOR },
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
      mark: { type: 'line', color: DELTA_COLOR, point: { size: 18 }, strokeWidth: 1.5 },
      encoding: {
        x: timeAxis(trend),
        y: { field: 'delta', type: 'quantitative', title: 'median delta (ms)' },
        ...color,
      },
    },
    zeroRule('y'),
  );
  if (failed.length > 0) {
    layer.push({
      data: { values: failed },
      mark: { type: 'rule', color: '#d62728', opacity: 0.6 },
      encoding: { x: timeAxis(trend) },
    });
  }
  return {
    ...chartHead(
      SIZE,
      'Paired median delta per run (backbone − baseline)',
      `band: the run's 95% CI; below 0: backbone first${failed.length > 0 ? '; red rules: failed runs' : ''}`,
    ),
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
    ...chartHead(SIZE, title, subtitle),
    data: { values },
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
    encoding: {
      x: timeAxis(trend),
      y: { field: 'value', type: 'quantitative', title: `${statistic} latency (ms)`, scale: { zero: false } },
      color: PATH_COLOR,
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
    ...chartHead(
      SIZE,
      'Events lost per run',
      'gaps in the exchange ids (not measurable for bookTicker: no point)',
    ),
    data: { values },
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
    encoding: {
      x: timeAxis(trend),
      y: { field: 'lost', type: 'quantitative', title: 'events lost' },
      color: PATH_COLOR,
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
    ...chartHead(
      SIZE,
      'Paired median delta against market activity (one point per run)',
      "bar: the run's 95% CI; below 0: backbone first",
    ),
    data: { values },
    layer: [
      {
        mark: { type: 'rule', color: DELTA_COLOR, opacity: 0.5 },
        encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
      {
        mark: { type: 'point', filled: true, size: 40, color: DELTA_COLOR },
        encoding: {
          x,
          y: { field: 'delta', type: 'quantitative', title: 'median delta (ms)' },
          ...seriesEncoding(values, 'color'),
        },
      },
      zeroRule('y'),
    ],
  };
}

/** The trend's charts that have data, rendered to SVG, in page order. */
export async function renderTrendCharts(trend: Trend): Promise<Chart[]> {
  const specs: ChartSpecs = [
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
  return renderChartSpecs(specs);
}
