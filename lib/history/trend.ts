/**
 * The trend report over the run history: `history.json` (the data), `history.jsonl` (one record per
 * line, for any tool) and `history.html` (one offline file, charts drawn to static SVG at build
 * time like report.html). Each chart point is one run; figures across runs (the headline's, the
 * merged table's) come from the runs' merged histograms (merged.ts), never from their percentiles.
 * This file: the trend's data; its charts are in trend-charts.ts, its page in trend-html.ts.
 */
import { ms } from '../report';
import type { HistogramPercentiles } from '../stats';
import { mergedFigures, type MergedFigures } from './merged';
import type { HistoryRecord } from './record';
import type { HistoryRead, SkippedRecord } from './store';

export const TREND_SCHEMA = 'feedpath.history-trend/1';
/** Written at the root of the store (beside `runs/` in the bucket, beside the run folders locally). */
export const TREND_FILES = { json: 'history.json', html: 'history.html', jsonl: 'history.jsonl' } as const;

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
