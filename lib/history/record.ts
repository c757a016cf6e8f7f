/**
 * The history record: one compact, flat JSON object per run, what a trend over weeks of runs needs
 * from each report (and, for a run that failed, its cause). Flat keys so that Athena (the Glue
 * table in cloudformation/history.yml), jq, pandas or a spreadsheet read it without unnesting;
 * each record is written as one line, which is what the JSON SerDe reads.
 */
import { z } from 'zod';
import { ErrorCode, FeedpathError } from '../errors';
import { jsonObject, type Json } from '../json';
import type { Report } from '../report';
import { PATHS } from '../samples';
import { histogramSchema, type Histogram } from '../stats';

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

// ——— from report.json ———

function stringAt(...values: unknown[]): string | null {
  for (const v of values) if (typeof v === 'string' && v.trim() !== '') return v;
  return null;
}

function isoAt(...values: unknown[]): string | null {
  for (const v of values) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const t = new Date(v).getTime();
    if (Number.isFinite(t)) return new Date(t).toISOString();
  }
  return null;
}

function streamsAt(...values: unknown[]): string[] {
  for (const v of values) {
    if (Array.isArray(v)) {
      const names = v.filter((s): s is string => typeof s === 'string' && s.trim() !== '');
      if (names.length > 0) return names;
    }
    if (typeof v === 'string' && v.trim() !== '')
      return v
        .split(/[,/]/)
        .map((s) => s.trim())
        .filter((s) => s !== '');
  }
  return [];
}

function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * What the run's input.json and run.json say about it. Both shapes are read: the AWS workflow's
 * (input: forwarderRegion, receiverRegion, label; run: startedAt, input) and the local run's
 * (run: startedAt, endedAt, regions: {forwarder, receiver}).
 */
export interface RunFacts {
  runId: string | null;
  startedAt: string | null;
  endedAt: string | null;
  label: string | null;
  mode: string | null;
  forwarderRegion: string | null;
  receiverRegion: string | null;
  forwarderAzId: string | null;
  receiverAzId: string | null;
  instanceType: string | null;
  streams: string[];
}

/** Reads the facts from an input.json and a run.json (either may be null). */
export function runFacts(input: Json | null, run: Json | null): RunFacts {
  const runInput = jsonObject(run?.input);
  const regions = jsonObject(run?.regions);
  const placement = jsonObject(run?.placement);
  const forwarder = jsonObject(placement?.forwarder);
  const receiver = jsonObject(placement?.receiver);
  return {
    runId: stringAt(run?.runId, input?.runId),
    startedAt: isoAt(run?.startedAt, input?.startedAt),
    endedAt: isoAt(run?.endedAt),
    label: stringAt(input?.label, runInput?.label, run?.label),
    mode: stringAt(input?.mode, runInput?.mode, run?.mode),
    forwarderRegion: stringAt(input?.forwarderRegion, runInput?.forwarderRegion, regions?.forwarder),
    receiverRegion: stringAt(input?.receiverRegion, runInput?.receiverRegion, regions?.receiver),
    forwarderAzId: stringAt(forwarder?.availabilityZoneId),
    receiverAzId: stringAt(receiver?.availabilityZoneId),
    // Both sites share the input's instance type; the placement says what was launched.
    instanceType: stringAt(
      receiver?.instanceType,
      forwarder?.instanceType,
      input?.instanceType,
      runInput?.instanceType,
    ),
    streams: streamsAt(input?.streams, runInput?.streams, run?.streams),
  };
}

/** The last folder name of a key prefix: `runs/2024/08/08/<id>/` → `<id>`. */
export function runIdOfPrefix(prefix: string): string | null {
  const parts = prefix.split('/').filter((p) => p !== '');
  return parts.length > 0 ? (parts[parts.length - 1] as string) : null;
}

/** A report's histogram when it is one (reports made before histograms have none). */
function histogramAt(value: unknown): Histogram | null {
  const parsed = histogramSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** The verdict's judgement of the paired delta: a real difference big enough to matter (null without one). */
function practicalDifference(report: Report): boolean | null {
  const paired = report.paired;
  if (paired?.significant === undefined || paired.significant === null) return null;
  const p = report.practical;
  return paired.significant && p.below_threshold !== true && p.within_control_noise !== true;
}

function lossByStream(report: Report): StreamLoss[] {
  const byKey = new Map<string, StreamLoss>();
  for (const path of PATHS) {
    for (const s of report.loss[path]?.per_stream ?? []) {
      const names = s.streams.filter((n) => n !== '');
      const entry = byKey.get(s.key) ?? {
        stream: names.length > 0 ? names.join(',') : s.key,
        baseline_lost: null,
        backbone_lost: null,
      };
      entry[`${path}_lost`] = s.events_lost;
      byKey.set(s.key, entry);
    }
  }
  return [...byKey.values()];
}

export interface FromReportOptions {
  /** The run's id; default: run.json's, else the last folder of `reportKey`'s prefix. */
  runId?: string;
  /** Key of report.html relative to the store's root; null when it has none. */
  reportKey?: string | null;
  /** A run whose workflow failed after writing its report (e.g. teardown): its error and cause. */
  failure?: { error: string | null; cause: string | null };
  /**
   * The run's input.json and run.json as they are now, preferred to the report's copies (a local
   * run writes run.json after its analysis).
   */
  metadata?: { input: Json | null; run: Json | null };
  /** One receiver of a multi-receiver run: the report is its own (`receivers/<name>/report.json`). */
  receiver?: ReceiverOfRun;
  now?: () => Date;
}

/** A receiver of a multi-receiver run, by name, with its region when the caller knows it. */
export interface ReceiverOfRun {
  name: string;
  region?: string | null;
}

/**
 * A receiver's region and zone from run.json (`receivers`, `placement.receivers`), where the run's
 * own `receiverRegion` and `placement.receiver` describe one receiver only.
 */
function receiverFacts(
  run: Json | null,
  receiver: ReceiverOfRun,
): { region: string | null; azId: string | null } {
  const listed = Array.isArray(run?.receivers)
    ? run.receivers.map(jsonObject).find((r) => r?.name === receiver.name)
    : undefined;
  const placed = jsonObject(jsonObject(jsonObject(run?.placement)?.receivers)?.[receiver.name]);
  return {
    region: stringAt(receiver.region, listed?.region, placed?.region),
    azId: stringAt(placed?.availabilityZoneId),
  };
}

/** The history record of an analysed run, from its report.json. */
export function historyRecordFromReport(report: Report, options: FromReportOptions = {}): HistoryRecord {
  const facts = runFacts(
    options.metadata?.input ?? report.metadata.input,
    options.metadata?.run ?? report.metadata.run,
  );
  const reportKey = options.reportKey ?? null;
  const runId =
    options.runId ??
    facts.runId ??
    (reportKey === null ? null : runIdOfPrefix(reportKey.slice(0, reportKey.lastIndexOf('/') + 1)));
  if (runId === null) {
    throw new FeedpathError(
      ErrorCode.badInput,
      `${report.location}: the run has no id (no run.json, and its report is not in a run folder)`,
    );
  }
  const a = report.summaries.baseline;
  const b = report.summaries.backbone;
  const paired = report.comparison === 'paired' ? report.paired : null;
  const ci = paired?.median_delta_ci_ms ?? null;
  const receiver =
    options.receiver === undefined
      ? null
      : receiverFacts(options.metadata?.run ?? report.metadata.run, options.receiver);
  return {
    schema: HISTORY_SCHEMA,
    run_id: runId,
    started_at: facts.startedAt ?? report.generated_at,
    ended_at: facts.endedAt,
    recorded_at: (options.now ?? (() => new Date()))().toISOString(),
    label: facts.label,
    mode: facts.mode,
    forwarder_region: facts.forwarderRegion,
    receiver_region: receiver === null ? facts.receiverRegion : receiver.region,
    receiver: options.receiver?.name ?? null,
    forwarder_az_id: facts.forwarderAzId,
    receiver_az_id: receiver === null ? facts.receiverAzId : receiver.azId,
    instance_type: facts.instanceType,
    cost_usd: finite(report.cost?.total_usd),
    streams: facts.streams,
    status: options.failure === undefined ? 'succeeded' : 'failed',
    error: options.failure?.error ?? null,
    cause: options.failure?.cause ?? null,
    comparison: report.comparison,
    verdict: report.verdict,
    report: reportKey,
    baseline_samples: a?.sample_count ?? null,
    baseline_median_ms: finite(a?.median_latency_ms),
    baseline_p99_ms: finite(a?.p99_latency_ms),
    baseline_jitter_ms: finite(a?.jitter_stddev_ms),
    baseline_lost: finite(a?.events_lost),
    backbone_samples: b?.sample_count ?? null,
    backbone_median_ms: finite(b?.median_latency_ms),
    backbone_p99_ms: finite(b?.p99_latency_ms),
    backbone_jitter_ms: finite(b?.jitter_stddev_ms),
    backbone_lost: finite(b?.events_lost),
    matched_events: paired?.matched ?? null,
    paired_median_delta_ms: finite(paired?.delta_ms?.median),
    paired_delta_ci_low_ms: finite(ci?.low),
    paired_delta_ci_high_ms: finite(ci?.high),
    paired_significant: paired?.significant ?? null,
    paired_practical: practicalDifference(report),
    practical_threshold_ms: finite(report.practical?.threshold_ms),
    control_noise_ms: finite(report.practical?.control_noise_ms),
    backbone_first_share: finite(paired?.backbone_first_share),
    receiver_clock_error_bound_ms: finite(report.clock.receiver.error_bound_ms),
    forwarder_clock_error_bound_ms: finite(report.clock.forwarder.error_bound_ms),
    loss_by_stream: lossByStream(report),
    baseline_histogram: histogramAt(report.histograms?.baseline),
    backbone_histogram: histogramAt(report.histograms?.backbone),
    paired_delta_histogram: histogramAt(report.histograms?.paired_delta),
    market_events_per_s_median: finite(report.market?.events_per_second?.median),
    market_events_per_s_max: finite(report.market?.events_per_second?.max),
    market_burst_share: finite(report.market?.burst_share),
    market_largest_burst: finite(report.market?.largest_burst?.events),
    market_busy_threshold_events_per_s: finite(report.market?.busy_threshold_events_per_s),
  };
}

export interface FailedRunInput {
  runId: string;
  /** When the run started (ISO or epoch ms); default: now. */
  startedAt?: string | number | null;
  endedAt?: string | number | null;
  /** The error's name, e.g. `AgentFailed`, `States.Timeout`; null when there is none. */
  error?: string | null;
  /** Why it failed, for people. */
  cause: string;
  /** The run's input.json / run.json (or the execution input), for its label, mode, regions, streams. */
  input?: Json | null;
  run?: Json | null;
  now?: () => Date;
}

/** The history record of a run that produced no report: what it was, and why it failed. */
export function failedHistoryRecord(failure: FailedRunInput): HistoryRecord {
  const now = (failure.now ?? (() => new Date()))();
  const facts = runFacts(failure.input ?? null, failure.run ?? null);
  return {
    schema: HISTORY_SCHEMA,
    run_id: failure.runId,
    started_at: isoAt(failure.startedAt) ?? facts.startedAt ?? now.toISOString(),
    ended_at: isoAt(failure.endedAt) ?? facts.endedAt,
    recorded_at: now.toISOString(),
    label: facts.label,
    mode: facts.mode,
    forwarder_region: facts.forwarderRegion,
    receiver_region: facts.receiverRegion,
    receiver: null,
    forwarder_az_id: facts.forwarderAzId,
    receiver_az_id: facts.receiverAzId,
    instance_type: facts.instanceType,
    cost_usd: null,
    streams: facts.streams,
    status: 'failed',
    error: failure.error ?? null,
    cause: failure.cause,
    comparison: null,
    verdict: null,
    report: null,
    baseline_samples: null,
    baseline_median_ms: null,
    baseline_p99_ms: null,
    baseline_jitter_ms: null,
    baseline_lost: null,
    backbone_samples: null,
    backbone_median_ms: null,
    backbone_p99_ms: null,
    backbone_jitter_ms: null,
    backbone_lost: null,
    matched_events: null,
    paired_median_delta_ms: null,
    paired_delta_ci_low_ms: null,
    paired_delta_ci_high_ms: null,
    paired_significant: null,
    paired_practical: null,
    practical_threshold_ms: null,
    control_noise_ms: null,
    backbone_first_share: null,
    receiver_clock_error_bound_ms: null,
    forwarder_clock_error_bound_ms: null,
    loss_by_stream: [],
    baseline_histogram: null,
    backbone_histogram: null,
    paired_delta_histogram: null,
    market_events_per_s_median: null,
    market_events_per_s_max: null,
    market_burst_share: null,
    market_largest_burst: null,
    market_busy_threshold_events_per_s: null,
  };
}
