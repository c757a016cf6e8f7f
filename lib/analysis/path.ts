/** One path's statistics: the seed's summary, the backbone legs, loss, and what the charts need. */
import type { PathName } from '../samples';
import {
  describeSorted,
  histogramOf,
  percentileSorted,
  sortedFinite,
  type Distribution,
  type Histogram,
} from '../stats';
import type { PathColumns, RowProblem, StreamGroup } from './path-columns';
import { ROW_OK, type DataErrorCounts } from './data-errors';
import { computeLoss, type LossResult } from './loss';
import { orderByGroupAndId } from './order';
import { settleDataErrors, type ValidateOptions } from './validate';
import type { PathMarket } from './market';
import { computeMarket } from './market-seconds';
import { applyCaptureTimes, type CaptureMarket } from './market-capture';

/**
 * The seed experiment's summary (`<path>-results.json`): its twelve keys first, exactly, then ours.
 * Latencies in ms; null where not applicable.
 */
export interface SeedSummary {
  setup_type: PathName;
  /** Rows that enter the statistics: recorded events minus data errors (see data_errors). */
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
  /** Of events_lost: the events after the path's last record that the other path shows existed. */
  events_lost_tail: number | null;
  duplicate_events: number;
  skipped_rows: number;
  /** Rows that are data errors (unreadable, non-physical, duplicate, clock step back): in no statistic, not loss. */
  data_errors: number;
  /** First and last clean receiver time (ISO, ms). */
  first_arrival: string | null;
  last_arrival: string | null;
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
  /**
   * end_to_end_latency_ms per row (NaN for data errors), kept only when asked
   * ({@link PathOptions.keepLatency}): the earlier-copy analysis needs one path's per-event latency.
   */
  latencyMs: Float64Array | null;
  /**
   * Per row, the ordinal of the exchange connection that delivered it (0: not recorded); null when
   * no row records one. The reader's column as is (two bytes a row): it lives until the analysis ends.
   */
  connection: Uint16Array | null;
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
    /** Data errors by kind with their first lines (data-errors.ts). */
    data_errors: DataErrorCounts;
    /** Checks that could not be applied to this file, and why. */
    notes: string[];
  };
  /** First and last clean receiver arrival, s since the Unix epoch (null without frankfurt_time). */
  span: { first: number; last: number } | null;
  /** Evenly spaced quantiles of the end-to-end latency (for histograms and CDFs). */
  latencyQuantiles: Float64Array | null;
  /** The end-to-end latency's mergeable histogram (lib/stats/histogram.ts), for the history. */
  latencyHistogram: Histogram;
  timeSeries: TimePoint[];
  /** The market context from this path's events and each row's market state (lib/analysis/market.ts). */
  market: PathMarket | null;
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

/** First and last arrival in ns since the analysis epoch (NaN rows skipped); null when none. */
export function arrivalRange(arrivalNs: Float64Array): { first: number; last: number } | null {
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < arrivalNs.length; i++) {
    const t = arrivalNs[i] as number;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  return first <= last ? { first, last } : null;
}

/** ISO time of an arrival (ns since the epoch second), to the ms. */
export function arrivalIso(epochSecond: number | undefined, ns: number | undefined): string | null {
  if (epochSecond === undefined || ns === undefined || ns !== ns) return null;
  return new Date(epochSecond * 1000 + Math.round(ns / 1e6)).toISOString();
}

export interface PathOptions extends ValidateOptions {
  /**
   * Keep each row's latency in `keys.latencyMs` (8 bytes a row until the analysis ends). The run's
   * analysis asks it of the baseline alone: read last, its copy lives the shortest, and the other
   * path's latency of a matched event follows from the paired delta.
   */
  keepLatency?: boolean;
  /** A replayed run's capture: the market is placed by its original event times (market-capture.ts). */
  capture?: CaptureMarket | null;
}

/** Summarises one path's columns; the columns' latency arrays are dropped afterwards. */
export function analyzePath(path: PathName, columns: PathColumns, options: PathOptions = {}): PathAnalysis {
  const orders = orderByGroupAndId(columns.group, columns.groups.length, columns.seq);
  const notes = settleDataErrors(columns, orders, options);
  let clean = 0;
  for (let row = 0; row < columns.flags.length; row++) if (columns.flags[row] === ROW_OK) clean++;

  const series = timeSeries(columns.arrivalNs, columns.e2eMs);
  // Before the sort below reorders the column in place.
  const keptLatency = options.keepLatency === true ? columns.e2eMs.slice() : null;
  const range = arrivalRange(columns.arrivalNs);
  const epochSecond = columns.epochSecond ?? 0;
  const span =
    range === null ? null : { first: epochSecond + range.first / 1e9, last: epochSecond + range.last / 1e9 };

  const loss = computeLoss(columns.groups, orders, columns.seq, columns.firstId, columns.unreadableAt);
  loss.last_arrival = arrivalIso(columns.epochSecond, range?.last);
  // A path read without the market's columns (ReadOptions.market) has no market to place.
  if (options.capture && columns.eventUs !== null) applyCaptureTimes(columns, options.capture);
  const market = computeMarket(path, columns, orders, loss.events_lost, options.capture ?? null);
  // Only the market reads them.
  columns.eventUs = null;
  columns.price = null;
  columns.quantity = null;

  const sortedLatency = sortedFinite(columns.e2eMs, { inPlace: true });
  columns.e2eMs = new Float64Array(0);
  const latency = describeSorted(sortedLatency);
  const latencyQuantiles = quantileTable(sortedLatency);
  const latencyHistogram = histogramOf(sortedLatency);

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
    sample_count: clean,
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
    events_lost_tail: null,
    duplicate_events: loss.duplicates,
    skipped_rows: columns.skipped,
    data_errors: columns.dataErrors.total,
    first_arrival: arrivalIso(columns.epochSecond, range?.first),
    last_arrival: loss.last_arrival,
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
      data_errors: columns.dataErrors.counts,
      notes,
    },
    span,
    latencyQuantiles,
    latencyHistogram,
    timeSeries: series,
    market,
    keys: {
      groups: columns.groups,
      seq: columns.seq,
      arrivalNs: columns.arrivalNs,
      orders,
      latencyMs: keptLatency,
      connection: columns.connection,
    },
  };
}
