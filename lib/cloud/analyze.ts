/**
 * Analyze: the statistics issue's core over the run's S3 prefix (or, locally, its results folder);
 * the hosts' clock error bounds come from the chrony readings the agent scripts upload
 * (`clock/<role>.json`, read by the analysis itself, lib/analysis/hosts.ts).
 */
import { analyzeReceivers } from '../analysis/receivers';
import { analyzeRun, REPORT_FILES } from '../analysis/run';
import { historyRecordFromReport, recordReceivers, recordRun, type HistoryRecord } from '../history';
import type { Report } from '../report';
import { addConnectionsToRunFile } from '../run-connections';
import { PATHS, type PathName } from '../samples';
import type { ResultsStore } from '../store';
import type { AnalyzeResult, RunEvent } from './contract';
import { AnalysisFailedError } from './errors';
import { estimateCost, loadPriceTable, relayedBytes, usageOfRun } from './cost';
import { RUN_FILE, runFileSchema } from '../run-file';
import { readJsonWith } from '../store';
import type { ReceiverPlan, RunPlan } from './run';

export interface AnalyzeDeps {
  store: ResultsStore;
  log?: (line: string) => void;
  /** Publishes the run's figures as metrics (the Lambda: EMF on stdout); none locally. */
  metrics?: (record: HistoryRecord) => void;
}

/** The paths a run of this mode records. */
export function pathsOf(run: RunPlan): readonly PathName[] {
  return run.input.mode === 'paired' ? PATHS : [run.input.mode];
}

/**
 * The run's record in the history, the trend report and its metrics. A failure here is logged, not
 * raised: the run's own report is what the execution must deliver.
 */
async function recordHistory(run: RunPlan, report: Report, deps: AnalyzeDeps): Promise<void> {
  const log = deps.log ?? (() => undefined);
  try {
    deps.metrics?.(historyRecordFromReport(report, { reportKey: `${run.prefix}${REPORT_FILES.html}` }));
    await recordRun(deps.store, run.prefix, report, { log });
  } catch (error) {
    log(`history: could not record run ${run.runId}: ${(error as Error).message}`);
  }
}

/**
 * One history record per receiver of a multi-receiver run, and each receiver's metrics (the
 * `Receiver` dimension, lib/metrics-emf.ts). Logged, not raised, as for one receiver.
 */
async function recordReceiversHistory(
  run: RunPlan,
  names: readonly MeasuredReceiver[],
  results: Record<string, { report: Report } | null>,
  deps: AnalyzeDeps,
): Promise<void> {
  const log = deps.log ?? (() => undefined);
  try {
    const receivers = names.map(({ name, region }) => ({
      name,
      region,
      report: results[name]?.report ?? null,
    }));
    const { records } = await recordReceivers(deps.store, run.prefix, receivers, { log });
    for (const { record } of records) deps.metrics?.(record);
  } catch (error) {
    log(`history: could not record run ${run.runId}: ${(error as Error).message}`);
  }
}

/** A receiver of a multi-receiver run as the cloud names it: always with its region. */
type MeasuredReceiver = Pick<ReceiverPlan, 'name' | 'region'>;

/**
 * The receivers of a multi-receiver run that were measured: the plan's, less those run.json says
 * were dropped (`regionFailure: "continue"`, written by ProvisionDescribeSites). A run.json that is
 * gone or damaged drops none (a damaged one is logged), as a run.json that fails its schema did.
 */
async function measuredReceivers(
  store: ResultsStore,
  run: RunPlan,
  log: (line: string) => void,
): Promise<MeasuredReceiver[]> {
  const stored = await readJsonWith(store, `${run.prefix}${RUN_FILE}`, runFileSchema, {
    what: 'a run file',
    onProblem: (problem) => log(`${problem}: taking every receiver of the plan as measured`),
  });
  const dropped = new Set(
    (stored?.receivers ?? []).filter((r) => r.dropped !== undefined).map((r) => r.name),
  );
  return (run.receivers ?? [])
    .filter(({ name }) => !dropped.has(name))
    .map(({ name, region }) => ({ name, region }));
}

/** AnalyzeResults: writes the summaries and the report under the run's prefix. */
export async function analyzeResults({ run }: RunEvent, deps: AnalyzeDeps): Promise<AnalyzeResult> {
  let verdict: string;
  // run.json gains the agents' connections first, so the report reads them as a local run's. Only
  // a detail: a failure here is logged, and the analysis goes on.
  const receiverNames = (run.receivers ?? []).map(({ name }) => name);
  await addConnectionsToRunFile(deps.store, run.prefix, receiverNames).catch((error: unknown) =>
    deps.log?.(`run.json: could not add the agents' connections: ${(error as Error).message}`),
  );
  const options = { paths: pathsOf(run), ...(deps.log !== undefined ? { log: deps.log } : {}) };
  try {
    // The run's cost estimate (lib/cloud/cost.ts), priced when the report is built, so that the
    // analysis' own time is in it: every site and every receiver's relayed bytes.
    const analysisStarted = Date.now();
    const bytes = await relayedBytes(deps.store, run.prefix);
    const cost = () =>
      estimateCost(
        usageOfRun(run, {
          now: new Date(),
          relayedBytes: bytes,
          analysisSeconds: (Date.now() - analysisStarted) / 1000,
        }),
        loadPriceTable(),
      );
    if (run.receivers === undefined) {
      const result = await analyzeRun(deps.store, run.prefix, { ...options, cost });
      verdict = result.report.verdict;
      await recordHistory(run, result.report, deps);
    } else {
      // Each receiver under receivers/<name>/, then the matrix at the run's prefix.
      const names = await measuredReceivers(deps.store, run, deps.log ?? (() => undefined));
      const result = await analyzeReceivers(deps.store, run.prefix, names, { ...options, cost });
      verdict = result.matrix.overall;
      await recordReceiversHistory(run, names, result.receivers, deps);
    }
  } catch (error) {
    throw new AnalysisFailedError(
      `analysis of ${deps.store.describe(run.prefix)} failed: ${(error as Error).message}`,
      error,
    );
  }
  return {
    runId: run.runId,
    bucket: run.bucket,
    prefix: run.prefix,
    report: {
      json: `${run.prefix}${REPORT_FILES.json}`,
      markdown: `${run.prefix}${REPORT_FILES.markdown}`,
      html: `${run.prefix}${REPORT_FILES.html}`,
    },
    verdict,
  };
}
