/**
 * Analyze: the statistics issue's core over the run's S3 prefix (or, locally, its results folder);
 * the hosts' clock error bounds come from the chrony readings the agent scripts upload
 * (`clock/<role>.json`, read by the analysis itself, lib/analysis/hosts.ts).
 */
import { analyzeRun, REPORT_FILES } from '../analysis/run';
import { historyRecordFromReport, recordRun, type HistoryRecord } from '../history';
import type { Report } from '../report';
import { addConnectionsToRunFile } from '../run-connections';
import { PATHS, type PathName } from '../samples';
import type { ResultsStore } from '../store';
import type { AnalyzeResult, RunEvent } from './contract';
import { AnalysisFailedError } from './errors';
import type { RunPlan } from './run';

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

/** AnalyzeResults: writes the summaries and the report under the run's prefix. */
export async function analyzeResults({ run }: RunEvent, deps: AnalyzeDeps): Promise<AnalyzeResult> {
  let verdict: string;
  // run.json gains the agents' connections first, so the report reads them as a local run's. Only
  // a detail: a failure here is logged, and the analysis goes on.
  await addConnectionsToRunFile(deps.store, run.prefix).catch((error: unknown) =>
    deps.log?.(`run.json: could not add the agents' connections: ${(error as Error).message}`),
  );
  try {
    const result = await analyzeRun(deps.store, run.prefix, {
      paths: pathsOf(run),
      ...(deps.log !== undefined ? { log: deps.log } : {}),
    });
    verdict = result.report.verdict;
    await recordHistory(run, result.report, deps);
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
