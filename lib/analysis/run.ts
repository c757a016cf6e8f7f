/**
 * The analysis of a whole run, from a results store (local folder or S3): both paths' summaries, the
 * paired comparison and the report, written back beside the CSVs. This is the core of the analysis
 * Lambda and of `feedpath analyze`.
 *
 * Memory: the CSVs are streamed into typed columns, the baseline first: the market context is taken
 * from its rows, so the backbone, read second, skips the market's three columns (E, price,
 * quantity), unless the baseline gave no market. Each path's latency columns are summarised and
 * dropped once read; what stays is what the pairing needs (≈ 30 bytes per row), so two
 * 10-million-row paths with every column stay under 1 GB (`npm run bench -- analysis`).
 */
import type { RunCost } from '../cloud/cost';
import { parseStreamName, type StreamKind } from '../binance';
import { ErrorCode, FeedpathError, isFeedpathError } from '../errors';
import {
  buildReport,
  renderCharts,
  renderHtml,
  renderMarkdown,
  type FileStatus,
  type Report,
} from '../report';
import { PATHS, resultsCsvName, resultsJsonName, type PathName } from '../samples';
import { checkRunFile, RUN_FILE, type RunFile } from '../run-file';
import { folderPrefix, readText, type ResultsStore } from '../store';
import { ArrivalEpoch } from './path-columns';
import { dataErrorWarnings } from './data-errors';
import { applyTailLoss } from './window';
import { clockBounds, readHostFiles, withRunHosts, type GivenClockBounds } from './hosts';
import { matchedRows, pairPaths, type PairedResult } from './paired';
import { analyzeConnections, type ConnectionAnalysis } from './connections';
import { analyzeFirstCopy, type FirstCopyAnalysis } from './first-copy';
import { latencyByMarketState } from './market-state';
import { readReplayCapture } from './market-capture';
import { analyzeLab } from './lab';
import { analyzeControl } from './control';
import { practicalSettings, type PracticalInput } from './practical';
import { assessRunStatus } from './run-status';
import type { PathAnalysis } from './path';
import { toJson } from '../report/json';
import type { SummaryOptions } from './read';
import { analyzePathInStore } from './summaries';

export const REPORT_FILES = { json: 'report.json', markdown: 'report.md', html: 'report.html' } as const;

/** Throws FP_NOTHING_TO_ANALYZE listing why each path could not be used. */
export function nothingToAnalyze(location: string, reasons: string[]): never {
  throw new FeedpathError(
    ErrorCode.nothingToAnalyze,
    `nothing to analyse in ${location}: ${reasons.length > 0 ? reasons.join('; ') : 'no results files'}`,
  );
}

export interface AnalyzeRunOptions extends SummaryOptions, PracticalInput {
  /** Paths to read; default both. */
  paths?: readonly PathName[];
  /** ± clock error bound per host, ms (null: unknown); overrides what the agents' metrics say. */
  clockErrorBoundMs?: GivenClockBounds;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  now?: () => Date;
  /** Cloud runs: the run's cost estimate (lib/cloud/cost.ts), asked for when the report is built. */
  cost?: () => RunCost;
  /**
   * Where the run's own files are (input.json, run.json, the forwarder's metrics/ and clock/) when
   * `prefix` is one receiver's folder of a multi-receiver run (`receivers/<name>/`); default `prefix`.
   */
  runPrefix?: string;
  /** Where the replayed capture is when not at input.json's `replay` (a copy fetched from S3). */
  replayCapture?: string;
}

export interface AnalyzeRunResult {
  report: Report;
  /** Where each written file is (paths or s3:// URLs). */
  files: {
    summaries: Partial<Record<PathName, string>>;
    reportJson: string;
    reportMarkdown: string;
    reportHtml: string;
  };
}

async function readJsonObject(
  store: ResultsStore,
  key: string,
  warnings: string[],
): Promise<Record<string, unknown> | null> {
  const text = await readText(store, key);
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
    warnings.push(`${store.describe(key)} is not a JSON object: ignored`);
  } catch (error) {
    warnings.push(`${store.describe(key)} is not valid JSON (${(error as Error).message}): ignored`);
  }
  return null;
}

/** The run's asked-for duration in ms (input.json `durationSeconds`), when it has one. */
function durationFromInput(input: Record<string, unknown> | null): number | undefined {
  const seconds = input?.durationSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** The one stream kind the run's input asks for, when all its streams share it. */
export function kindFromInput(input: Record<string, unknown> | null): StreamKind | undefined {
  const streams = input?.streams;
  const names = typeof streams === 'string' ? streams.split(/[,/]/) : Array.isArray(streams) ? streams : [];
  const kinds = new Set<StreamKind>();
  for (const name of names) {
    if (typeof name !== 'string' || name.trim() === '') continue;
    try {
      kinds.add(parseStreamName(name.trim()).kind);
    } catch {
      return undefined;
    }
  }
  return kinds.size === 1 ? [...kinds][0] : undefined;
}

/** run.json through its schema (lib/run-file.ts); a file that does not fit is a warning, not a failure. */
function readRunFile(run: Record<string, unknown> | null, where: string, warnings: string[]): RunFile | null {
  if (run === null) return null;
  const checked = checkRunFile(run);
  if (checked.problem !== undefined)
    warnings.push(`${where} is ${checked.problem}: the run's status is not known`);
  return checked.run;
}

/** Analyses the run under `prefix` in `store` and writes its summaries and report back. */
export async function analyzeRun(
  store: ResultsStore,
  prefix: string,
  options: AnalyzeRunOptions = {},
): Promise<AnalyzeRunResult> {
  const base = folderPrefix(prefix);
  const runBase = folderPrefix(options.runPrefix ?? prefix);
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const wanted = options.paths ?? PATHS;
  const warnings: string[] = [];

  const input = await readJsonObject(store, `${runBase}input.json`, warnings);
  const run = await readJsonObject(store, `${runBase}${RUN_FILE}`, warnings);
  const runFile = readRunFile(run, store.describe(`${runBase}${RUN_FILE}`), warnings);
  const hostFiles =
    runBase === base
      ? await readHostFiles(store, base, warnings)
      : withRunHosts(
          await readHostFiles(store, base, warnings),
          await readHostFiles(store, runBase, warnings),
        );
  const streamKind = options.streamKind ?? kindFromInput(input);

  // A replay's recorded E are its send instants: its market is the capture's (market-capture.ts).
  const capture = await readReplayCapture(input, warnings, options.replayCapture);
  const epoch = new ArrivalEpoch();
  const analyses: Record<PathName, PathAnalysis | null> = { baseline: null, backbone: null };
  const files = {} as Record<PathName, FileStatus>;
  const reasons: string[] = [];
  // The baseline first: its rows give the market, so the backbone need not keep the market's columns.
  for (const path of ['baseline', 'backbone'] as PathName[]) {
    const key = `${base}${resultsCsvName(path)}`;
    const file = store.describe(key);
    if (!wanted.includes(path)) {
      files[path] = { file, status: 'missing', message: 'not asked for' };
      continue;
    }
    const started = Date.now();
    let analysis: PathAnalysis | null;
    try {
      analysis = await analyzePathInStore(store, base, path, {
        ...options,
        streamKind,
        epoch,
        runDurationMs: options.runDurationMs ?? durationFromInput(input),
        // The earlier copy needs one path's latency per event (lib/analysis/first-copy.ts).
        keepLatency: path === 'baseline',
        market: path === 'baseline' || analyses.baseline?.market == null,
        capture,
      });
    } catch (error) {
      if (!isFeedpathError(error) || error.code !== ErrorCode.badResults) throw error;
      files[path] = { file, status: 'unreadable', message: error.message };
      reasons.push(error.message);
      continue;
    }
    if (analysis === null) {
      files[path] = { file, status: 'missing', message: `${file} does not exist` };
      reasons.push(`${file} does not exist`);
      continue;
    }
    const q = analysis.quality;
    // A file whose every row is a data error has nothing to measure, like an empty one.
    const usable = analysis.summary.sample_count > 0;
    const assumed = analysis.loss.per_stream.some((s) => s.kind_assumed);
    files[path] = {
      file,
      status: usable ? 'ok' : 'empty',
      ...(usable ? {} : { message: `${file} has no readable data row` }),
      rows: q.rows,
      skipped_rows: q.skipped_rows,
      problem_counts: q.problem_counts,
      problems: q.problems,
      data_errors: q.data_errors,
      ...(assumed
        ? {
            loss_assumption: `${file} has no stream column: sequence_id gaps are read as ${streamKind ?? 'trade'}-id gaps${streamKind === undefined ? ' (assumed; give the stream kind to change it)' : ''}`,
          }
        : {}),
    };
    // Each data-error kind once per path, with its count and first lines; then checks not applied.
    warnings.push(...dataErrorWarnings(file, q.data_errors), ...q.notes);
    if (!usable) {
      reasons.push(`${file} has no readable data row`);
      continue;
    }
    analyses[path] = analysis;
    log(
      `${path}: ${q.rows.toLocaleString('en-US')} rows read in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  if (analyses.baseline === null && analyses.backbone === null)
    nothingToAnalyze(store.describe(base), reasons);

  let paired: PairedResult | null = null;
  let connections: ConnectionAnalysis | null = null;
  let firstCopy: FirstCopyAnalysis | null = null;
  // The market is one whichever path saw it: the direct connection's rows, else the backbone's.
  const market = analyses.baseline?.market ?? analyses.backbone?.market ?? null;
  if (analyses.baseline !== null && analyses.backbone !== null) {
    const started = Date.now();
    paired = pairPaths(analyses.baseline.keys, analyses.backbone.keys);
    log(
      `paired: ${paired.analysis.matched.toLocaleString('en-US')} events matched in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // The tail one path never recorded counts as its loss (window.ts), before any summary is written.
    applyTailLoss({ baseline: analyses.baseline, backbone: analyses.backbone }, paired.deltaQuantiles);
    // The matched rows, once: the split by connection, the earlier copy and the market states read them.
    const split = Date.now();
    const rows = matchedRows(analyses.baseline.keys, analyses.backbone.keys);
    connections = analyzeConnections(
      analyses.baseline.keys,
      analyses.backbone.keys,
      rows,
      paired.analysis,
      epoch.second,
    );
    log(
      `by connection pair: ${connections?.pairs.length ?? 'no'} pairs in ${((Date.now() - split) / 1000).toFixed(1)} s`,
    );
    const copied = Date.now();
    firstCopy = analyzeFirstCopy(analyses.baseline.keys, analyses.backbone.keys, rows, paired);
    paired.sortedDeltaNs = null;
    log(`the earlier copy in ${((Date.now() - copied) / 1000).toFixed(1)} s`);
    if (market !== null) {
      const stated = Date.now();
      market.context.by_state = latencyByMarketState(analyses.baseline.keys, analyses.backbone.keys, rows, {
        source: market.context.source,
        rowState: market.rowState,
      });
      log(`latency by market state in ${((Date.now() - stated) / 1000).toFixed(1)} s`);
    }
    // Nothing else reads the baseline's per-event latency.
    analyses.baseline.keys.latencyMs = null;
  }

  // The A/A control (a second direct connection), when the run has one: the method's own noise.
  const control = await analyzeControl(
    store,
    base,
    analyses.baseline,
    { ...options, streamKind, epoch, runDurationMs: options.runDurationMs ?? durationFromInput(input) },
    warnings,
  );
  if (control !== null) log(`control: ${control.matched.toLocaleString('en-US')} events matched`);

  const summaries: Partial<Record<PathName, string>> = {};
  for (const path of PATHS) {
    const analysis = analyses[path];
    if (analysis === null) continue;
    const key = `${base}${resultsJsonName(path)}`;
    await store.write(key, toJson(analysis.summary));
    summaries[path] = store.describe(key);
  }

  const report = buildReport({
    location: store.describe(base),
    paths: analyses,
    files,
    paired: paired?.analysis ?? null,
    deltaHistogram: paired?.deltaHistogram ?? null,
    connections,
    firstCopy,
    market:
      market === null
        ? null
        : { ...market.context, events_lost: analyses[market.context.source]?.summary.events_lost ?? null },
    control,
    practical: practicalSettings(
      input,
      { minDifferenceMs: options.minDifferenceMs, minDifferenceShare: options.minDifferenceShare },
      warnings,
    ),
    clock: clockBounds(hostFiles, options.clockErrorBoundMs),
    resources: hostFiles.resources,
    metadata: { input, run },
    warnings,
    generatedAt: now(),
    runStatus: assessRunStatus(runFile, analyses),
    lab: await analyzeLab(store, base, { ...options, streamKind }, runBase),
    cost: options.cost?.() ?? null,
  });
  const series = (a: PathAnalysis | null) =>
    a?.latencyQuantiles ? { quantiles: a.latencyQuantiles, count: a.latency?.count ?? 0 } : undefined;
  const charts = await renderCharts(report, {
    latency: { baseline: series(analyses.baseline), backbone: series(analyses.backbone) },
    timeSeries: { baseline: analyses.baseline?.timeSeries, backbone: analyses.backbone?.timeSeries },
    epochSecond: epoch.second,
    delta:
      paired?.deltaQuantiles && paired.analysis.delta_ms
        ? { quantiles: paired.deltaQuantiles, count: paired.analysis.delta_ms.count }
        : null,
  });
  log(`charts rendered`);
  await store.write(`${base}${REPORT_FILES.json}`, toJson(report));
  await store.write(`${base}${REPORT_FILES.markdown}`, renderMarkdown(report));
  await store.write(`${base}${REPORT_FILES.html}`, renderHtml(report, charts));
  log(`report written to ${store.describe(`${base}${REPORT_FILES.html}`)}`);
  return {
    report,
    files: {
      summaries,
      reportJson: store.describe(`${base}${REPORT_FILES.json}`),
      reportMarkdown: store.describe(`${base}${REPORT_FILES.markdown}`),
      reportHtml: store.describe(`${base}${REPORT_FILES.html}`),
    },
  };
}
