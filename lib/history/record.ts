/**
 * The history record: one compact, flat JSON object per run, what a trend over weeks of runs needs
 * from each report (and, for a run that failed, its cause). Flat keys so that Athena (the Glue
 * table in cloudformation/history.yml), jq, pandas or a spreadsheet read it without unnesting;
 * each record is written as one line, which is what the JSON SerDe reads.
 */
import { z } from 'zod';
import { histogramSchema } from '../stats';

export const HISTORY_SCHEMA = 'feedpath.history/1';
/** Records live under `history/year=YYYY/month=MM/day=DD/<runId>.json` (Hive-style partitions). */
export const HISTORY_PREFIX = 'history/';

const nullableNumber = z.number().nullable();
const nullableString = z.string().nullable();

export const streamLossSchema = z.object({
  stream: z.string(),
  baseline_lost: nullableNumber,
  backbone_lost: nullableNumber,
});

/** What a record must hold to be read back; unknown keys (a newer writer's) are dropped. */
export const historyRecordSchema = z.object({
  schema: z.literal(HISTORY_SCHEMA),
  run_id: z.string().min(1),
  /** ISO time the run started (its partition); the report's time when the run did not say. */
  started_at: z.iso.datetime({ offset: true }),
  ended_at: nullableString,
  recorded_at: z.iso.datetime({ offset: true }),
  label: nullableString,
  mode: nullableString,
  forwarder_region: nullableString,
  receiver_region: nullableString,
  /**
   * The receiver the record is about, in a run with several (one record per receiver, its files
   * under `receivers/<name>/`): its region in the cloud, a word locally (`frankfurt`). Null for a
   * run with one receiver and in records written before runs had several.
   */
  receiver: nullableString.default(null),
  /**
   * Each site's zone by AZ ID (run.json `placement`) and the instance type; null for local runs, for
   * a run that failed before its sites were ready, and in records written before they were kept.
   */
  forwarder_az_id: nullableString.default(null),
  receiver_az_id: nullableString.default(null),
  instance_type: nullableString.default(null),
  /**
   * What the run cost, USD, estimated from what it used (report.json `cost.total_usd`,
   * lib/cloud/cost.ts); null for local runs, failed runs and records written before it was kept.
   */
  cost_usd: nullableNumber.default(null),
  streams: z.array(z.string()),
  status: z.enum(['succeeded', 'failed']),
  /** The error's name (e.g. the workflow's `AgentFailed`) and its cause, for a failed run. */
  error: nullableString,
  cause: nullableString,
  /** The report's comparison (paired, unpaired, baseline only, backbone only); null without one. */
  comparison: nullableString,
  verdict: nullableString,
  /** Key of the run's report.html relative to the store's root (S3 key, or `<runId>/report.html`). */
  report: nullableString,
  baseline_samples: nullableNumber,
  baseline_median_ms: nullableNumber,
  baseline_p99_ms: nullableNumber,
  baseline_jitter_ms: nullableNumber,
  /** Events lost from the exchange ids; null when not measurable (bookTicker) or not measured. */
  baseline_lost: nullableNumber,
  backbone_samples: nullableNumber,
  backbone_median_ms: nullableNumber,
  backbone_p99_ms: nullableNumber,
  backbone_jitter_ms: nullableNumber,
  backbone_lost: nullableNumber,
  matched_events: nullableNumber,
  /** backbone − baseline arrival of the same event, ms (negative: backbone first). */
  paired_median_delta_ms: nullableNumber,
  paired_delta_ci_low_ms: nullableNumber,
  paired_delta_ci_high_ms: nullableNumber,
  /** False when the interval spans 0. */
  paired_significant: z.boolean().nullable(),
  /**
   * Whether the paired difference is a practical one (the verdict's rule, lib/analysis/practical.ts):
   * significant, at least the practical threshold, and beyond the A/A control's noise. Null without
   * a paired delta, and in records written before the rule (readers then use `paired_significant`).
   */
  paired_practical: z.boolean().nullable().default(null),
  practical_threshold_ms: nullableNumber.default(null),
  control_noise_ms: nullableNumber.default(null),
  backbone_first_share: nullableNumber,
  receiver_clock_error_bound_ms: nullableNumber,
  forwarder_clock_error_bound_ms: nullableNumber,
  loss_by_stream: z.array(streamLossSchema),
  /**
   * Mergeable histograms (lib/stats/histogram.ts) of each path's end-to-end latency and of the paired
   * delta, ms: percentiles across runs come from their merged bins, never from the runs' percentiles.
   * Null for a run without the measurement and in records written before them.
   */
  baseline_histogram: histogramSchema.nullable().default(null),
  backbone_histogram: histogramSchema.nullable().default(null),
  paired_delta_histogram: histogramSchema.nullable().default(null),
  /**
   * The market during the run (report.json `market`, lib/analysis/market.ts): events per second
   * (median and max over its E seconds), the share of events in bursts (2+ events of a stream in
   * one exchange ms), the largest burst's events, and the events per second from which a second
   * is among the busiest 10%. Null without exchange event times and in records written before.
   */
  market_events_per_s_median: nullableNumber.default(null),
  market_events_per_s_max: nullableNumber.default(null),
  market_burst_share: nullableNumber.default(null),
  market_largest_burst: nullableNumber.default(null),
  market_busy_threshold_events_per_s: nullableNumber.default(null),
});

export type HistoryRecord = z.output<typeof historyRecordSchema>;
export type StreamLoss = z.output<typeof streamLossSchema>;

/** Validates a parsed record; the zod error names the bad field. */
export function parseHistoryRecord(value: unknown): HistoryRecord {
  return historyRecordSchema.parse(value);
}

/** `history/year=YYYY/month=MM/day=DD/<runId>.json`, dated by the run's start (UTC). */
export function historyKey(
  record: Pick<HistoryRecord, 'run_id' | 'started_at'> & { receiver?: string | null },
): string {
  const day = new Date(record.started_at).toISOString();
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, '_');
  // One record per receiver of a multi-receiver run: `<runId>@<receiver>.json` (`@` is in no safe id).
  const name =
    record.receiver === null || record.receiver === undefined
      ? safe(record.run_id)
      : `${safe(record.run_id)}@${safe(record.receiver)}`;
  return `${HISTORY_PREFIX}year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/day=${day.slice(8, 10)}/${name}.json`;
}

/** The record as one line of JSON (the JSON SerDe and JSON Lines both want one object per line). */
export function formatHistoryRecord(record: HistoryRecord): string {
  return `${JSON.stringify(record)}\n`;
}
