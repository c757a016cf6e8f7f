/** One path's statistics: the seed's summary, the backbone legs, loss, and what the charts need. */
import type { PathName } from '../samples';
import { describeSorted, percentileSorted, sortedFinite, type Distribution } from '../stats';
import type { PathColumns, RowProblem, StreamGroup } from './csv';
import { computeLoss, orderByGroupAndId, type LossResult } from './order';

/**
 * The seed experiment's summary (`<path>-results.json`): its twelve keys first, exactly, then ours.
 * Latencies in ms; null where not applicable.
 */
export interface SeedSummary {
  setup_type: PathName;
  sample_count: number;
  events_lost: number | null;
  avg_latency_ms: number | null;
  median_latency_ms: number | null;
  p95_latency_ms: number | null;
  p99_latency_ms: number | null;
  min_latency_ms: number | null;
  max_latency_ms: number | null;
  jitter_stddev_ms: number | null;
  backbone_avg_latency_ms: number | null;
  backbone_median_latency_ms: number | null;
  // ours
  p90_latency_ms: number | null;
  p999_latency_ms: number | null;
  /** Rows with an end-to-end latency (spot bookTicker rows have none). */
  latency_sample_count: number;
  loss_measurable: boolean;
  duplicate_events: number;
  skipped_rows: number;
}

/** The seed's keys, in its order. */
export const SEED_SUMMARY_KEYS = [
  'setup_type',
  'sample_count',
  'events_lost',
  'avg_latency_ms',
  'median_latency_ms',
  'p95_latency_ms',
  'p99_latency_ms',
  'min_latency_ms',
  'max_latency_ms',
  'jitter_stddev_ms',
  'backbone_avg_latency_ms',
  'backbone_median_latency_ms',
] as const;

/** Quantiles kept per series for the charts: every 0.01 %. */
export const CHART_QUANTILES = 10_001;
/** At most this many rows (taken at a fixed stride) feed the latency-over-time chart. */
const TIME_SAMPLE_ROWS = 200_000;
const TIME_BUCKETS = 300;

export interface TimePoint {
  /** Seconds since the analysis epoch (see ArrivalEpoch). */
  t: number;
  median: number;
  p99: number;
  max: number;
  count: number;
}

export interface PathKeys {
  groups: StreamGroup[];
  seq: Float64Array;
  arrivalNs: Float64Array;
  orders: Uint32Array[];
}

export interface PathAnalysis {
  path: PathName;
  source: string;
  summary: SeedSummary;
  latency: Distribution | null;
  forwarderToReceiver: Distribution | null;
  exchangeToForwarder: Distribution | null;
  loss: LossResult;
  quality: {
    rows: number;
    skipped_rows: number;
    problem_counts: Record<string, number>;
    problems: RowProblem[];
    has_stream_column: boolean;
  };
  /** First and last receiver arrival, s since the epoch (null without frankfurt_time). */
  span: { first: number; last: number } | null;
  /** Evenly spaced quantiles of the end-to-end latency (for histograms and CDFs). */
  latencyQuantiles: Float64Array | null;
  timeSeries: TimePoint[];
  /** What the paired matching needs; the latency columns are released. */
  keys: PathKeys;
}

/** Evenly spaced quantiles (0 … 100 %) of a sorted array. */
export function quantileTable(sorted: Float64Array, points = CHART_QUANTILES): Float64Array | null {
  if (sorted.length === 0) return null;
  const out = new Float64Array(points);
  for (let k = 0; k < points; k++) out[k] = percentileSorted(sorted, (100 * k) / (points - 1));
  return out;
}

function timeSeries(arrivalNs: Float64Array, values: Float64Array): TimePoint[] {
  const n = values.length;
  const stride = Math.max(1, Math.ceil(n / TIME_SAMPLE_ROWS));
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < n; i += stride) {
    const t = arrivalNs[i] as number;
    const v = values[i] as number;
    if (t === t && v === v) {
      ts.push(t / 1e9);
      vs.push(v);
    }
  }
  if (ts.length === 0) return [];
  let tMin = Infinity;
  let tMax = -Infinity;
  for (const t of ts) {
    if (t < tMin) tMin = t;
    if (t > tMax) tMax = t;
  }
  const buckets = Math.min(TIME_BUCKETS, Math.max(1, Math.ceil(ts.length / 20)));
  const width = (tMax - tMin) / buckets || 1;
  const byBucket: number[][] = Array.from({ length: buckets }, () => []);
  for (let k = 0; k < ts.length; k++) {
    const b = Math.min(buckets - 1, Math.floor(((ts[k] as number) - tMin) / width));
    (byBucket[b] as number[]).push(vs[k] as number);
  }
  const points: TimePoint[] = [];
  byBucket.forEach((bucket, b) => {
    if (bucket.length === 0) return;
    const sorted = Float64Array.from(bucket).sort();
    points.push({
      t: tMin + (b + 0.5) * width,
      median: percentileSorted(sorted, 50),
      p99: percentileSorted(sorted, 99),
      max: sorted[sorted.length - 1] as number,
      count: sorted.length * stride,
    });
  });
  return points;
}

function arrivalSpan(arrivalNs: Float64Array): { first: number; last: number } | null {
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < arrivalNs.length; i++) {
    const t = arrivalNs[i] as number;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  return first <= last ? { first: first / 1e9, last: last / 1e9 } : null;
}

/** Summarises one path's columns; the columns' latency arrays are dropped afterwards. */
export function analyzePath(path: PathName, columns: PathColumns): PathAnalysis {
  const series = timeSeries(columns.arrivalNs, columns.e2eMs);
  const span = arrivalSpan(columns.arrivalNs);

  const orders = orderByGroupAndId(columns.group, columns.groups.length, columns.seq);
  const loss = computeLoss(columns.groups, orders, columns.seq, columns.firstId);

  const sortedLatency = sortedFinite(columns.e2eMs, { inPlace: true });
  columns.e2eMs = new Float64Array(0);
  const latency = describeSorted(sortedLatency);
  const latencyQuantiles = quantileTable(sortedLatency);

  let forwarderToReceiver: Distribution | null = null;
  if (columns.legMs !== null) {
    forwarderToReceiver = describeSorted(sortedFinite(columns.legMs, { inPlace: true }));
    columns.legMs = null;
  }
  let exchangeToForwarder: Distribution | null = null;
  if (columns.exchangeToForwarderMs !== null) {
    exchangeToForwarder = describeSorted(sortedFinite(columns.exchangeToForwarderMs, { inPlace: true }));
    columns.exchangeToForwarderMs = null;
  }

  const summary: SeedSummary = {
    setup_type: path,
    sample_count: columns.rows,
    events_lost: loss.events_lost,
    avg_latency_ms: latency?.mean ?? null,
    median_latency_ms: latency?.median ?? null,
    p95_latency_ms: latency?.p95 ?? null,
    p99_latency_ms: latency?.p99 ?? null,
    min_latency_ms: latency?.min ?? null,
    max_latency_ms: latency?.max ?? null,
    jitter_stddev_ms: latency?.stddev ?? null,
    backbone_avg_latency_ms: forwarderToReceiver?.mean ?? null,
    backbone_median_latency_ms: forwarderToReceiver?.median ?? null,
    p90_latency_ms: latency?.p90 ?? null,
    p999_latency_ms: latency?.p999 ?? null,
    latency_sample_count: latency?.count ?? 0,
    loss_measurable: loss.measurable,
    duplicate_events: loss.duplicates,
    skipped_rows: columns.skipped,
  };
  return {
    path,
    source: columns.source,
    summary,
    latency,
    forwarderToReceiver,
    exchangeToForwarder,
    loss,
    quality: {
      rows: columns.rows,
      skipped_rows: columns.skipped,
      problem_counts: columns.problemCounts,
      problems: columns.problems,
      has_stream_column: columns.hasStreamColumn,
    },
    span,
    latencyQuantiles,
    timeSeries: series,
    keys: { groups: columns.groups, seq: columns.seq, arrivalNs: columns.arrivalNs, orders },
  };
}
