/**
 * The per-path summaries (`<path>-results.json`, the seed's keys) from the per-path CSVs. The
 * receiver calls {@link writePathSummaries} when a run ends; `feedpath analyze` and the analysis
 * Lambda reach the same code through {@link analyzePathInStore} and the report.
 */
import { resultsCsvName, resultsJsonName, type PathName } from '../samples';
// Direct imports (not ../store): the receiver bundles this file, and must not pull in the S3 client.
import { LocalFolderStore } from '../store/local';
import type { ResultsStore } from '../store/store';
import { toJson } from '../report/json';
import { ArrivalEpoch } from './path-columns';
import { readResults, type SummaryOptions } from './read';
import { analyzePath, type PathAnalysis, type SeedSummary } from './path';
import type { CaptureMarket } from './market-capture';

/** Analyses one path's CSV in a store; null when the file does not exist. */
export async function analyzePathInStore(
  store: ResultsStore,
  prefix: string,
  path: PathName,
  options: SummaryOptions & {
    epoch?: ArrivalEpoch;
    keepLatency?: boolean;
    capture?: CaptureMarket | null;
  } = {},
): Promise<PathAnalysis | null> {
  const columns = await readResults(store, `${prefix}${resultsCsvName(path)}`, {
    ...options,
    epoch: options.epoch ?? new ArrivalEpoch(),
  });
  return columns === null
    ? null
    : analyzePath(path, columns, {
        runDurationMs: options.runDurationMs,
        keepLatency: options.keepLatency,
        capture: options.capture,
      });
}

/**
 * Reads `<dir>/<path>-results.csv` for each path (streaming), computes the seed's summary and writes
 * `<dir>/<path>-results.json`. A path whose CSV does not exist maps to undefined; a CSV that exists
 * but cannot be read (empty, header not the seed's) throws FP_BAD_RESULTS naming the file.
 */
export async function writePathSummaries(
  dir: string,
  paths: readonly PathName[],
  options: SummaryOptions = {},
): Promise<Record<PathName, SeedSummary | undefined>> {
  const store = new LocalFolderStore(dir);
  const result: Record<PathName, SeedSummary | undefined> = { baseline: undefined, backbone: undefined };
  for (const path of paths) {
    // The seed's summary only: the market's columns are not read (ReadOptions.market).
    const analysis = await analyzePathInStore(store, '', path, { ...options, market: false });
    if (analysis === null) continue;
    await store.write(resultsJsonName(path), toJson(analysis.summary));
    result[path] = analysis.summary;
  }
  return result;
}

/**
 * Reads `<dir>/control-results.csv` (the A/A control, a second direct connection) and writes
 * `<dir>/control-results.json`: the seed's summary, computed as the baseline's (the control takes
 * the baseline's path), with `setup_type` "control". Undefined when the file does not exist.
 */
export async function writeControlSummary(
  dir: string,
  options: SummaryOptions = {},
): Promise<SeedSummary | undefined> {
  const store = new LocalFolderStore(dir);
  const columns = await readResults(store, resultsCsvName('control'), {
    ...options,
    epoch: new ArrivalEpoch(),
    market: false,
  });
  if (columns === null) return undefined;
  const { summary } = analyzePath('baseline', columns, { runDurationMs: options.runDurationMs });
  await store.write(resultsJsonName('control'), toJson({ ...summary, setup_type: 'control' }));
  return summary;
}
