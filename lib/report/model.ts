/**
 * `report.json`: everything a run's report says, as data. report.md and report.html are renderings
 * of it (plus the charts' data, which stays out of the JSON).
 */
import type { RunCost } from '../cloud/cost';
import type { LossResult } from '../analysis/loss';
import type { PairedAnalysis } from '../analysis/paired';
import type { ControlAnalysis } from '../analysis/control';
import type { ConnectionAnalysis } from '../analysis/connections';
import type { FirstCopyAnalysis } from '../analysis/first-copy';
import type { MarketContext } from '../analysis/market';
import {
  assessPractical,
  practicalSettings,
  type PracticalSettings,
  type PracticalSignificance,
} from '../analysis/practical';
import type { PathAnalysis, SeedSummary } from '../analysis/path';
import type { RowProblem } from '../analysis/path-columns';
import type { DataErrorCounts } from '../analysis/data-errors';
import { assessEvidence, type Evidence } from '../analysis/evidence';
import type { RunStatusReport } from '../analysis/run-status';
import type { PathName } from '../samples';
import {
  INTERVAL_METHOD,
  PERCENTILE_DEFINITION,
  STDDEV_DEFINITION,
  type Distribution,
  type Histogram,
} from '../stats';
import { verdictSentence } from './verdict';
import type { AgentMetrics } from '../agent-files';
import type { LabCheck } from '../analysis/lab';

/**
 * report.json's schema id. Its shape is versioned: a change bumps it and readers accept every
 * version in REPORT_SCHEMAS (the versions and what each added: README "report.json versions").
 */
export const REPORT_SCHEMA = 'feedpath.report/2';
/** Every report.json version a reader accepts, oldest first. */
export const REPORT_SCHEMAS = ['feedpath.report/1', REPORT_SCHEMA] as const;

/** The parts `feedpath.report/2` added: absent from a `/1` report. */
type AddedInVersion2 =
  | 'run_status'
  | 'one_way_evidence'
  | 'control'
  | 'practical'
  | 'connections'
  | 'first_copy'
  | 'market'
  | 'histograms'
  | 'lab'
  | 'cost';

/**
 * A report.json as read back (lib/history): any version in REPORT_SCHEMAS, so the parts a later
 * version added may be absent; what reads it must cope (e.g. no practical judgement in a /1 report).
 */
export type StoredReport = Omit<Report, 'schema' | AddedInVersion2> &
  Partial<Pick<Report, AddedInVersion2>> & { schema: (typeof REPORT_SCHEMAS)[number] };

/** Whether a parsed JSON value is a feedpath run report of a version this code reads. */
export function isStoredReport(value: unknown): value is StoredReport {
  const schema = (value as { schema?: unknown } | null)?.schema;
  return (
    value !== null && typeof value === 'object' && (REPORT_SCHEMAS as readonly unknown[]).includes(schema)
  );
}

/** An agent's resource use, as the agents write `metrics/<agent>.json` (extra fields kept). */
export type AgentResources = AgentMetrics;

export type HostName = 'receiver' | 'forwarder';

export interface ClockBound {
  /** ± bound on the host clock's error, ms; null when unknown. */
  error_bound_ms: number | null;
  source: string;
}

export interface FileStatus {
  file: string;
  status: 'ok' | 'missing' | 'unreadable' | 'empty';
  message?: string;
  rows?: number;
  skipped_rows?: number;
  problem_counts?: Record<string, number>;
  problems?: RowProblem[];
  /** Data errors by kind with their first lines: in no statistic, never loss (lib/analysis/data-errors.ts). */
  data_errors?: DataErrorCounts;
  loss_assumption?: string;
}

export interface SeedDifferences {
  /** backbone − baseline, ms (negative: backbone lower). */
  avg_latency_ms: number | null;
  median_latency_ms: number | null;
  p95_latency_ms: number | null;
  p99_latency_ms: number | null;
  jitter_stddev_ms: number | null;
  /** backbone − baseline events lost (null when either is not measurable). */
  events_lost: number | null;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  generated_at: string;
  location: string;
  verdict: string;
  /** How the run went (run.json and what the analysis found); the verdict starts with it unless succeeded. */
  run_status: RunStatusReport;
  /** Whether each path's one-way figures rest on enough data (the paired delta has its own in `paired`). */
  one_way_evidence: Record<PathName, Evidence | null>;
  /** paired: both paths with matched events; unpaired: both paths, no common event; else the one path. */
  comparison: 'paired' | 'unpaired' | 'baseline only' | 'backbone only';
  summaries: Record<PathName, SeedSummary | null>;
  differences: SeedDifferences | null;
  paired: PairedAnalysis | null;
  /** The A/A control: a second direct connection paired with the baseline (null: the run had none). */
  control: ControlAnalysis | null;
  /** The threshold below which a difference is "no practical difference", its source, and the judgement. */
  practical: PracticalSignificance;
  /** The paired delta by connection pair and whether a reconnect changed its regime (null: no connection column). */
  connections: ConnectionAnalysis | null;
  /** Per event the earlier of the two copies: what a desk consuming both paths gets (null: not measurable). */
  first_copy: FirstCopyAnalysis | null;
  /**
   * What the market did during the run, from the recorded events, and the latency by market state
   * (lib/analysis/market.ts); null without exchange event times, absent from older reports.
   */
  market?: MarketContext | null;
  latency_ms: Record<PathName, Distribution | null>;
  legs_ms: { exchange_to_forwarder: Distribution | null; forwarder_to_receiver: Distribution | null };
  loss: Record<PathName, LossResult | null>;
  /**
   * Mergeable histograms (lib/stats/histogram.ts) of each path's end-to-end latency and of the
   * paired delta, ms: what the history merges across runs. Absent from reports made before them.
   */
  histograms?: ReportHistograms;
  clock: Record<HostName, ClockBound> & { note: string };
  resources: AgentResources[];
  /** Local runs with link emulation: measured minus emulated delay per path and leg (lib/analysis/lab.ts). */
  lab?: LabCheck;
  /** Cloud runs: what the run cost, estimated from what it used (lib/cloud/cost.ts); absent locally. */
  cost?: RunCost;
  metadata: { input: Record<string, unknown> | null; run: Record<string, unknown> | null };
  data_quality: { files: Record<PathName, FileStatus>; warnings: string[] };
  statistics: { percentile_definition: string; stddev_definition: string; bootstrap: string; charts: string };
}

export interface ReportHistograms {
  baseline: Histogram | null;
  backbone: Histogram | null;
  paired_delta: Histogram | null;
}

export interface ReportInput {
  location: string;
  paths: Record<PathName, PathAnalysis | null>;
  files: Record<PathName, FileStatus>;
  paired: PairedAnalysis | null;
  /** The paired delta's histogram (PairedResult.deltaHistogram). */
  deltaHistogram?: Histogram | null;
  /** The A/A control, when the run has `control-results.csv`. */
  control?: ControlAnalysis | null;
  /** Default: the defaults of lib/analysis/practical.ts. */
  practical?: PracticalSettings;
  /** The paired delta by connection pair (lib/analysis/connections.ts). */
  connections?: ConnectionAnalysis | null;
  /** The earlier copy (lib/analysis/first-copy.ts). */
  firstCopy?: FirstCopyAnalysis | null;
  /** The market context (lib/analysis/market.ts). */
  market?: MarketContext | null;
  clock: Record<HostName, ClockBound>;
  resources: AgentResources[];
  metadata: Report['metadata'];
  warnings: string[];
  generatedAt: Date;
  /** Default: succeeded (a folder with no run.json, e.g. the seed's CSVs). */
  runStatus?: RunStatusReport;
  /** The lab check, when the run has the link emulators' ground truth. */
  lab?: LabCheck | null;
  /** Cloud runs: the cost estimate. */
  cost?: RunCost | null;
}

const CLOCK_NOTE =
  'The paired delta is measured on the receiver clock alone (no synchronisation error). One-way latencies compare two clocks: exchange E → receiver (end_to_end_latency_ms) depends on the receiver clock, exchange → forwarder on the forwarder clock, forwarder → receiver on both.';
export const CHARTS_NOTE =
  'Histograms and CDFs are drawn from 10,001 evenly spaced quantiles of each series (exact at those ranks) and show the 0.1–99.9 % range; latency over time uses at most 200,000 rows taken at a fixed stride. Tables are computed over all samples.';

function difference(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined ? null : b - a;
}

function oneWayEvidence(path: PathAnalysis | null): Evidence | null {
  if (path === null) return null;
  const span = path.span;
  return assessEvidence(path.latency?.count ?? 0, span === null ? null : span.last - span.first, 'event');
}

/** Assembles report.json from the analyses. */
export function buildReport(input: ReportInput): Report {
  const baseline = input.paths.baseline;
  const backbone = input.paths.backbone;
  const a = baseline?.summary ?? null;
  const b = backbone?.summary ?? null;
  const comparison: Report['comparison'] =
    a !== null && b !== null
      ? input.paired !== null && input.paired.matched > 0
        ? 'paired'
        : 'unpaired'
      : a !== null
        ? 'baseline only'
        : 'backbone only';
  const differences: SeedDifferences | null =
    a === null || b === null
      ? null
      : {
          avg_latency_ms: difference(a.avg_latency_ms, b.avg_latency_ms),
          median_latency_ms: difference(a.median_latency_ms, b.median_latency_ms),
          p95_latency_ms: difference(a.p95_latency_ms, b.p95_latency_ms),
          p99_latency_ms: difference(a.p99_latency_ms, b.p99_latency_ms),
          jitter_stddev_ms: difference(a.jitter_stddev_ms, b.jitter_stddev_ms),
          events_lost: difference(a.events_lost, b.events_lost),
        };
  const control = input.control ?? null;
  // The difference judged: the paired median delta, else the one-way medians'; the A/A control
  // measures the paired method, so it judges the paired delta only.
  const practical = assessPractical(
    input.practical ?? practicalSettings(null),
    a?.median_latency_ms ?? b?.median_latency_ms ?? null,
    comparison === 'paired'
      ? (input.paired?.delta_ms?.median ?? null)
      : comparison === 'unpaired'
        ? (differences?.median_latency_ms ?? null)
        : null,
    comparison === 'paired' ? (control?.noise_ms ?? null) : null,
  );
  const withoutVerdict: Omit<Report, 'verdict'> = {
    schema: REPORT_SCHEMA,
    generated_at: input.generatedAt.toISOString(),
    location: input.location,
    run_status: input.runStatus ?? { status: 'succeeded', causes: [], source: 'run.json' },
    one_way_evidence: { baseline: oneWayEvidence(baseline), backbone: oneWayEvidence(backbone) },
    comparison,
    summaries: { baseline: a, backbone: b },
    differences,
    paired: input.paired,
    control,
    practical,
    connections: input.connections ?? null,
    first_copy: input.firstCopy ?? null,
    market: input.market ?? null,
    latency_ms: { baseline: baseline?.latency ?? null, backbone: backbone?.latency ?? null },
    legs_ms: {
      exchange_to_forwarder: backbone?.exchangeToForwarder ?? null,
      forwarder_to_receiver: backbone?.forwarderToReceiver ?? null,
    },
    loss: { baseline: baseline?.loss ?? null, backbone: backbone?.loss ?? null },
    histograms: {
      baseline: baseline?.latencyHistogram ?? null,
      backbone: backbone?.latencyHistogram ?? null,
      paired_delta: input.deltaHistogram ?? null,
    },
    clock: { ...input.clock, note: CLOCK_NOTE },
    resources: input.resources,
    ...(input.lab ? { lab: input.lab } : {}),
    ...(input.cost ? { cost: input.cost } : {}),
    metadata: input.metadata,
    data_quality: { files: input.files, warnings: input.warnings },
    statistics: {
      percentile_definition: PERCENTILE_DEFINITION,
      stddev_definition: STDDEV_DEFINITION,
      // Key kept from the seed of report.json; it holds the interval's method, now time blocks.
      bootstrap: INTERVAL_METHOD,
      charts: CHARTS_NOTE,
    },
  };
  // Key order: the verdict right after the header fields, where people look first.
  const { schema, generated_at, location, run_status, ...rest } = withoutVerdict;
  return {
    schema,
    generated_at,
    location,
    verdict: verdictSentence(withoutVerdict),
    run_status,
    ...rest,
  };
}
