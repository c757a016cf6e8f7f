/**
 * The matrix report of a multi-receiver run: one row per receiver, each the headline of that
 * receiver's own report (`receivers/<name>/report.json`), and one sentence that answers the
 * question per place. Every figure and judgement is read from the receiver's report, never
 * recomputed, so the matrix cannot disagree with the reports it links to.
 */
import type { RunCost } from '../cloud/cost';
import type { BlockInterval } from '../stats';
import { receiverPrefix, type RunStatus } from '../run-file';
import { ms, msDigits } from './format';
import type { Report } from './model';
import { judgement, type Judgement } from './verdict';

export const MATRIX_SCHEMA = 'feedpath.matrix/1';

/** A receiver whose analysis failed (no files, unreadable files) has a row that says so. */
export type MatrixJudgement = Judgement | 'not analysed';

/** One receiver's row: the figures the question needs, from its report. */
export interface MatrixRow {
  receiver: string;
  region: string | null;
  judgement: MatrixJudgement;
  baseline_median_ms: number | null;
  baseline_p99_ms: number | null;
  backbone_median_ms: number | null;
  backbone_p99_ms: number | null;
  /** The paired median delta (backbone − baseline), ms; null without a paired comparison. */
  median_delta_ms: number | null;
  median_delta_ci_ms: { low: number; high: number } | null;
  matched_events: number | null;
  /** The difference the judgement weighs: the paired median delta, else the one-way medians'. */
  difference_ms: number | null;
  practical_threshold_ms: number | null;
  events_lost: { baseline: number | null; backbone: number | null };
  clock_error_bound_ms: { receiver: number | null; forwarder: number | null };
}

/** What the matrix says about a receiver's own report. */
export interface ReceiverEntry {
  region: string | null;
  /** The receiver's folder and report, relative to the run's prefix. */
  prefix: string;
  report: { json: string; markdown: string; html: string };
  /** Null when its analysis failed (then `error` says why). */
  verdict: string | null;
  run_status: RunStatus | null;
  comparison: Report['comparison'] | null;
  error: string | null;
}

export interface MatrixReport {
  schema: typeof MATRIX_SCHEMA;
  generated_at: string;
  location: string;
  /** The answer across receivers, one sentence. */
  overall: string;
  receivers: Record<string, ReceiverEntry>;
  /** One row per receiver, in the run's order. */
  matrix: MatrixRow[];
  metadata: { input: Record<string, unknown> | null; run: Record<string, unknown> | null };
  warnings: string[];
  /** Cloud runs: what the whole run cost (every site, every receiver's relay), lib/cloud/cost.ts. */
  cost?: RunCost;
}

/** One receiver as the analysis left it: its report, or why there is none. */
export interface ReceiverOutcome {
  name: string;
  region?: string | null;
  report: Report | null;
  error?: string;
}

function interval(ci: BlockInterval | null | undefined): { low: number; high: number } | null {
  return ci === null || ci === undefined ? null : { low: ci.low, high: ci.high };
}

/** A receiver's row from its report. */
function matrixRow(outcome: ReceiverOutcome): MatrixRow {
  const r = outcome.report;
  const a = r?.summaries.baseline ?? null;
  const b = r?.summaries.backbone ?? null;
  return {
    receiver: outcome.name,
    region: outcome.region ?? null,
    judgement: r === null ? 'not analysed' : judgement(r),
    baseline_median_ms: a?.median_latency_ms ?? null,
    baseline_p99_ms: a?.p99_latency_ms ?? null,
    backbone_median_ms: b?.median_latency_ms ?? null,
    backbone_p99_ms: b?.p99_latency_ms ?? null,
    median_delta_ms: r?.comparison === 'paired' ? (r.paired?.delta_ms?.median ?? null) : null,
    median_delta_ci_ms: r?.comparison === 'paired' ? interval(r.paired?.median_delta_ci_ms) : null,
    matched_events: r?.paired?.matched ?? null,
    difference_ms: r?.practical.difference_ms ?? null,
    practical_threshold_ms: r?.practical.threshold_ms ?? null,
    events_lost: { baseline: a?.events_lost ?? null, backbone: b?.events_lost ?? null },
    clock_error_bound_ms: {
      receiver: r?.clock.receiver.error_bound_ms ?? null,
      forwarder: r?.clock.forwarder.error_bound_ms ?? null,
    },
  };
}

/** "a", "a and b", "a, b and c". */
function names(list: readonly string[]): string {
  return list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

/** What each judgement says of the receivers that have it, after the lead clause on the backbone. */
const CLAUSES: Record<Exclude<MatrixJudgement, 'backbone faster'>, string> = {
  'baseline faster': 'baseline faster in',
  'no practical difference': 'no practical difference in',
  'no significant difference': 'no significant difference in',
  'not enough data': 'not enough data in',
  'one path only': 'only one path measured in',
  'no latency': 'no latency measured in',
  'not analysed': 'no analysis for',
};

/**
 * The answer across receivers, led by the question asked (is the backbone faster?): "Backbone
 * faster in 2 of 3 receivers (frankfurt −2.1 ms, london −1.4 ms); no practical difference in
 * virginia." A run that did not succeed for a receiver (its entry's run_status) says so first.
 */
function overallSentence({ matrix: rows, receivers }: Pick<MatrixReport, 'matrix' | 'receivers'>): string {
  const total = rows.length;
  const digits = msDigits(...rows.map((r) => r.difference_ms));
  const delta = (r: MatrixRow) => `${ms(r.difference_ms, { sign: true, digits })} ms`;
  const withDelta = (list: readonly MatrixRow[]) => list.map((r) => `${r.receiver} ${delta(r)}`).join(', ');
  const faster = rows.filter((r) => r.judgement === 'backbone faster');
  const noun = `receiver${total === 1 ? '' : 's'}`;
  const clauses = [
    faster.length === 0
      ? `Backbone faster in none of the ${total} ${noun}`
      : `Backbone faster in ${faster.length} of ${total} ${noun} (${withDelta(faster)})`,
  ];
  for (const [which, words] of Object.entries(CLAUSES) as [keyof typeof CLAUSES, string][]) {
    const group = rows.filter((r) => r.judgement === which);
    if (group.length === 0) continue;
    const named = group.map((r) =>
      which === 'baseline faster' ? `${r.receiver} (${delta(r)})` : r.receiver,
    );
    clauses.push(`${words} ${names(named)}`);
  }
  const notSucceeded = rows
    .map((r) => [r.receiver, receivers[r.receiver]?.run_status ?? null] as const)
    .filter(([, status]) => status !== null && status !== 'succeeded');
  const lead =
    notSucceeded.length === 0
      ? ''
      : `Run not clean for ${names(notSucceeded.map(([name, status]) => `${name} (${status})`))}: see their reports. `;
  return `${lead}${clauses.join('; ')}.`;
}

export interface MatrixInput {
  location: string;
  receivers: readonly ReceiverOutcome[];
  metadata: MatrixReport['metadata'];
  warnings: string[];
  generatedAt: Date;
  /** A report's file names (lib/analysis/run.ts REPORT_FILES), for the links to each receiver's. */
  reportFiles: { json: string; markdown: string; html: string };
  cost?: RunCost | null;
}

/** Assembles the matrix's report.json from each receiver's report. */
export function buildMatrixReport(input: MatrixInput): MatrixReport {
  const matrix = input.receivers.map(matrixRow);
  const receivers: Record<string, ReceiverEntry> = {};
  for (const outcome of input.receivers) {
    const prefix = receiverPrefix(outcome.name);
    const r = outcome.report;
    receivers[outcome.name] = {
      region: outcome.region ?? null,
      prefix,
      report: {
        json: `${prefix}${input.reportFiles.json}`,
        markdown: `${prefix}${input.reportFiles.markdown}`,
        html: `${prefix}${input.reportFiles.html}`,
      },
      verdict: r?.verdict ?? null,
      run_status: r?.run_status.status ?? null,
      comparison: r?.comparison ?? null,
      error: r === null ? (outcome.error ?? 'not analysed') : null,
    };
  }
  return {
    schema: MATRIX_SCHEMA,
    generated_at: input.generatedAt.toISOString(),
    location: input.location,
    overall: overallSentence({ matrix, receivers }),
    receivers,
    matrix,
    metadata: input.metadata,
    warnings: input.warnings,
    ...(input.cost ? { cost: input.cost } : {}),
  };
}
