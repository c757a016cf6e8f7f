/**
 * Analyze: the statistics issue's core over the run's S3 prefix (or, locally, its results folder),
 * given the hosts' clock error bounds the agent scripts recorded with chrony.
 */
import { analyzeRun, REPORT_FILES, type AnalyzeRunOptions } from '../analysis/run';
import { historyRecordFromReport, recordRun, type HistoryRecord } from '../history';
import type { Report } from '../report';
import { PATHS, type PathName } from '../samples';
import { readText, type ResultsStore } from '../store';
import type { AnalyzeResult, RunEvent } from './contract';
import { AnalysisFailedError } from './errors';
import { SITE_ROLES, type RunPlan, type SiteRole } from './run';

export interface AnalyzeDeps {
  store: ResultsStore;
  log?: (line: string) => void;
  /** Publishes the run's figures as metrics (the Lambda: EMF on stdout); none locally. */
  metrics?: (record: HistoryRecord) => void;
}

/** Where the run script writes a host's chrony readings. */
export function clockKey(run: Pick<RunPlan, 'prefix'>, role: SiteRole): string {
  return `${run.prefix}clock/${role}.json`;
}

interface ClockReading {
  errorBoundMs?: unknown;
}

/** The larger of a host's start and end bounds, ms; undefined when the host reported none. */
export function clockBoundOf(text: string | null): number | undefined {
  if (text === null) return undefined;
  let value: { start?: ClockReading | null; end?: ClockReading | null };
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return undefined;
  }
  const bounds = [value.start?.errorBoundMs, value.end?.errorBoundMs].filter(
    (b): b is number => typeof b === 'number' && Number.isFinite(b),
  );
  return bounds.length > 0 ? Math.max(...bounds) : undefined;
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
  const clockErrorBoundMs: NonNullable<AnalyzeRunOptions['clockErrorBoundMs']> = {};
  for (const role of SITE_ROLES) {
    const bound = clockBoundOf(await readText(deps.store, clockKey(run, role)));
    if (bound !== undefined) clockErrorBoundMs[role] = bound;
  }
  let verdict: string;
  try {
    const result = await analyzeRun(deps.store, run.prefix, {
      paths: pathsOf(run),
      clockErrorBoundMs,
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
