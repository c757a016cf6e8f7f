/** The history record of a run: from its report.json, or from its failure when it has none. */
import { ErrorCode, FeedpathError } from '../errors';
import { jsonObject, type Json } from '../json';
import type { StoredReport } from '../report';
import { PATHS } from '../samples';
import { histogramSchema, type Histogram } from '../stats';
import { HISTORY_SCHEMA, type HistoryRecord, type StreamLoss } from './record';
import { finite, isoAt, runFacts, runIdOfPrefix, stringAt } from './run-facts';

/** A report's histogram when it is one (reports made before histograms have none). */
function histogramAt(value: unknown): Histogram | null {
  const parsed = histogramSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * The verdict's judgement of the paired delta: a real difference big enough to matter (null without
 * one, and for a /1 report, which has no practical judgement: the trend then goes by significance).
 */
function practicalDifference(report: StoredReport): boolean | null {
  const paired = report.paired;
  const p = report.practical;
  if (paired?.significant === undefined || paired.significant === null || p === undefined) return null;
  return paired.significant && p.below_threshold !== true && p.within_control_noise !== true;
}

function lossByStream(report: StoredReport): StreamLoss[] {
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
export function historyRecordFromReport(
  report: StoredReport,
  options: FromReportOptions = {},
): HistoryRecord {
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
