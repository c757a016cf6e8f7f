/**
 * The analysis of a run with several receivers: each receiver's folder (`receivers/<name>/`) gets
 * the full per-run analysis and report, with the run's own files (input.json, run.json, the
 * forwarder's metrics and clock) read at the run's prefix; then the matrix report at the run's
 * prefix compares them. A run with one receiver keeps the single layout and goes to analyzeRun.
 *
 * Receivers are analysed one after the other: each analysis holds up to ~1 GB of columns for a
 * long run (lib/analysis/run.ts), and the analysis Lambda has one such budget.
 */
import { ErrorCode, FeedpathError, isFeedpathError } from '../errors';
import { buildMatrixReport, type MatrixReport, type ReceiverOutcome } from '../report/matrix';
import { renderMatrixCharts, renderMatrixHtml, renderMatrixMarkdown } from '../report/matrix-render';
import { checkRunFile, receiverPrefix, RUN_FILE } from '../run-file';
import { folderPrefix, readText, type ResultsStore } from '../store';
import { analyzeRun, REPORT_FILES, type AnalyzeRunOptions, type AnalyzeRunResult } from './run';
import { toJson } from '../report/json';
import { parseJsonObject } from '../json';

/** A receiver by name (`frankfurt`, `eu-central-1`), with its region when the name is not one. */
export type ReceiverName = string | { name: string; region?: string | null };

export interface AnalyzeReceiversResult {
  matrix: MatrixReport;
  /** Each receiver's own analysis; null when it failed (the matrix row says why). */
  receivers: Record<string, AnalyzeRunResult | null>;
  files: { reportJson: string; reportMarkdown: string; reportHtml: string };
}

/** The failures of one receiver's analysis that leave the others' worth reporting. */
const RECEIVER_FAILURES = new Set<string>([ErrorCode.nothingToAnalyze, ErrorCode.badResults]);

/** A receiver name is one folder: no separator, no relative step, nothing a store key would mangle. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Analyses each receiver's folder under `prefix` and writes its report there, then writes the
 * matrix report (report.json, report.md, report.html) at `prefix`. A receiver whose analysis fails
 * with a known error (nothing to analyse, unreadable results) is a row that says so; when every
 * receiver fails, the first failure is thrown.
 */
export async function analyzeReceivers(
  store: ResultsStore,
  prefix: string,
  names: readonly ReceiverName[],
  options: Omit<AnalyzeRunOptions, 'runPrefix'> = {},
): Promise<AnalyzeReceiversResult> {
  const base = folderPrefix(prefix);
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const receivers = names.map((n) => (typeof n === 'string' ? { name: n, region: null } : n));
  if (receivers.length === 0)
    throw new FeedpathError(ErrorCode.nothingToAnalyze, `no receiver to analyse in ${store.describe(base)}`);
  const seen = new Set<string>();
  for (const { name } of receivers) {
    if (!NAME.test(name))
      throw new FeedpathError(
        ErrorCode.badInput,
        `receiver name ${JSON.stringify(name)} is not a folder name`,
      );
    if (seen.has(name)) throw new FeedpathError(ErrorCode.badInput, `receiver ${name} is named twice`);
    seen.add(name);
  }

  const input = parseJsonObject(await readText(store, `${base}input.json`));
  const run = parseJsonObject(await readText(store, `${base}${RUN_FILE}`));
  // The regions run.json lists (lib/run-file.ts `receivers`) name the rows the caller did not.
  const listed = run === null ? undefined : checkRunFile(run).run?.receivers;
  const regionOf = (name: string, given: string | null | undefined) =>
    given ?? listed?.find((r) => r.name === name)?.region ?? null;

  const outcomes: ReceiverOutcome[] = [];
  const results: Record<string, AnalyzeRunResult | null> = {};
  let firstError: unknown = null;
  for (const { name, region } of receivers) {
    const folder = `${base}${receiverPrefix(name)}`;
    log(`receiver ${name}: analysing ${store.describe(folder)}`);
    try {
      // The cost is the whole run's: it goes in the matrix, not in each receiver's report.
      const { cost: _cost, ...perReceiver } = options;
      const result = await analyzeRun(store, folder, {
        ...perReceiver,
        runPrefix: base,
        log: (line) => log(`receiver ${name}: ${line}`),
      });
      results[name] = result;
      outcomes.push({ name, region: regionOf(name, region), report: result.report });
    } catch (error) {
      // A receiver with nothing readable is a row; a store or disk failure fails the whole analysis.
      if (!isFeedpathError(error) || !RECEIVER_FAILURES.has(error.code)) throw error;
      firstError ??= error;
      results[name] = null;
      outcomes.push({ name, region: regionOf(name, region), report: null, error: error.message });
      log(`receiver ${name}: not analysed: ${error.message}`);
    }
  }
  if (outcomes.every((o) => o.report === null)) throw firstError;

  const matrix = buildMatrixReport({
    location: store.describe(base),
    receivers: outcomes,
    metadata: { input, run },
    warnings: [],
    generatedAt: now(),
    reportFiles: REPORT_FILES,
    cost: options.cost?.() ?? null,
  });
  const charts = await renderMatrixCharts(matrix);
  await store.write(`${base}${REPORT_FILES.json}`, toJson(matrix));
  await store.write(`${base}${REPORT_FILES.markdown}`, renderMatrixMarkdown(matrix));
  await store.write(`${base}${REPORT_FILES.html}`, renderMatrixHtml(matrix, charts));
  log(`matrix report written to ${store.describe(`${base}${REPORT_FILES.html}`)}`);
  return {
    matrix,
    receivers: results,
    files: {
      reportJson: store.describe(`${base}${REPORT_FILES.json}`),
      reportMarkdown: store.describe(`${base}${REPORT_FILES.markdown}`),
      reportHtml: store.describe(`${base}${REPORT_FILES.html}`),
    },
  };
}
