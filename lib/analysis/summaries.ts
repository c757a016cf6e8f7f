/**
 * The per-path summaries (`<path>-results.json`, the seed's keys) from the per-path CSVs. The
 * receiver calls {@link writePathSummaries} when a run ends; `feedpath analyze` and the analysis
 * Lambda reach the same code through {@link readPath} and the report.
 */
import type { StreamKind } from '../binance';
import { ErrorCode, FeedpathError } from '../errors';
import { resultsCsvName, resultsJsonName, type PathName } from '../samples';
// Direct imports (not ../store): the receiver bundles this file, and must not pull in the S3 client.
import { LocalFolderStore } from '../store/local';
import type { ResultsStore } from '../store/store';
import { ArrivalEpoch, readPathColumns, type PathColumns } from './csv';
import { analyzePath, type PathAnalysis, type SeedSummary } from './path';
import type { CaptureMarket } from './market-capture';

export interface SummaryOptions {
  /** Stream kind of rows without a stream name (seed-format CSVs); default: trade ids. */
  streamKind?: StreamKind;
  /** Latencies above this (ms) are rejected as absurd; default 1 h. */
  maxLatencyMs?: number;
  /** The run's asked-for duration in ms (input.json): latencies longer than the run are data errors. */
  runDurationMs?: number;
}

/** Reads one path's CSV from a store into columns; null when the file does not exist. */
export async function readPath(
  store: ResultsStore,
  key: string,
  options: SummaryOptions & { epoch: ArrivalEpoch },
): Promise<PathColumns | null> {
  const stream = await store.readStream(key);
  if (stream === null) return null;
  return readPathColumns(stream, store.describe(key), {
    epoch: options.epoch,
    defaultKind: options.streamKind,
    maxLatencyMs: options.maxLatencyMs,
  });
}

/**
 * JSON with ms figures rounded to the ns (6 decimals): the inputs have µs resolution, so nothing
 * meaningful is lost, and people can read the file. Non-finite numbers become null.
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v !== 'number') return v;
      if (!Number.isFinite(v)) return null;
      return Number.isInteger(v) ? v : Math.round(v * 1e6) / 1e6;
    },
    2,
  )}\n`;
}

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
  const columns = await readPath(store, `${prefix}${resultsCsvName(path)}`, {
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
    const analysis = await analyzePathInStore(store, '', path, options);
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
  const columns = await readPath(store, resultsCsvName('control'), { ...options, epoch: new ArrivalEpoch() });
  if (columns === null) return undefined;
  const { summary } = analyzePath('baseline', columns, { runDurationMs: options.runDurationMs });
  await store.write(resultsJsonName('control'), toJson({ ...summary, setup_type: 'control' }));
  return summary;
}

/** Throws FP_NOTHING_TO_ANALYZE listing why each path could not be used. */
export function nothingToAnalyze(location: string, reasons: string[]): never {
  throw new FeedpathError(
    ErrorCode.nothingToAnalyze,
    `nothing to analyse in ${location}: ${reasons.length > 0 ? reasons.join('; ') : 'no results files'}`,
  );
}
