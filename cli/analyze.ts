/**
 * `feedpath analyze <dir>`: (re)computes both paths' summaries and the report from the CSVs in a
 * results folder — ours, or the seed experiment's format written by another tool — or, for a run of
 * several receivers, each receiver's and the matrix. `feedpath run` calls the same functions when a
 * run ends.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RUN_FILE, runFileSchema } from '../lib/run-file';
import { analyzeRun, type AnalyzeRunOptions, type AnalyzeRunResult } from '../lib/analysis';
import type { StreamKind } from '../lib/binance';
import { ErrorCode, FeedpathError } from '../lib/errors';
import { metricsTable, ms, msDigits, type Report } from '../lib/report';
import { LocalFolderStore, readJsonWith } from '../lib/store';
import { analyzeLocalReceivers, formatReceiversOutput } from './local/receivers';
import { withRunCapture, type ReplaySourceOptions } from './replay-source';

const STREAM_KINDS: readonly StreamKind[] = ['trade', 'aggTrade', 'bookTicker', 'depth'];

export interface AnalyzeCommandOptions {
  /**
   * Stream kind of rows without a stream name (seed-format CSVs): decides how sequence_id gaps count
   * as loss. Default: the kind of input.json's streams if they share one, else trade ids.
   */
  streamKind?: string;
  /** ± clock error bound of each host in ms, when known (shown beside one-way latencies). */
  clockErrorBoundMs?: AnalyzeRunOptions['clockErrorBoundMs'];
  /** Latencies above this many ms are rejected as absurd (default 1 h). */
  maxLatencyMs?: number;
  /** The practical-significance threshold, over the run's input.json (lib/analysis/practical.ts). */
  minDifferenceMs?: number;
  minDifferenceShare?: number;
  /** Progress lines, e.g. `console.error`; default none. */
  log?: (line: string) => void;
  /**
   * Print the verdict, the summary table and the report's paths when done: `true` to stdout, or a
   * function that gets the text. Default: print nothing (the caller formats the result).
   */
  print?: boolean | ((text: string) => void);
  /** The S3 client that fetches a replayed run's capture again (replay-source.ts); default AWS_REGION's. */
  s3?: ReplaySourceOptions['s3'];
}

export interface AnalyzeResult extends AnalyzeRunResult {
  dir: string;
  verdict: string;
}

function parseKind(kind: string | undefined): StreamKind | undefined {
  if (kind === undefined) return undefined;
  const found = STREAM_KINDS.find((k) => k.toLowerCase() === kind.toLowerCase());
  if (found === undefined) {
    throw new FeedpathError(
      ErrorCode.badInput,
      `unknown stream kind "${kind}": expected ${STREAM_KINDS.join(', ')}`,
    );
  }
  return found;
}

/**
 * The `feedpath analyze <dir>` command: a run of several receivers gets each receiver's folder
 * analysed, then the matrix (as `feedpath run` does); any other folder {@link analyzeCommand}, its
 * result printed.
 */
export async function analyzeFolder(
  dir: string,
  options: Pick<AnalyzeCommandOptions, 'streamKind' | 'minDifferenceMs' | 'minDifferenceShare'>,
): Promise<void> {
  const receivers = await multiReceiverNames(dir);
  if (receivers === null) {
    await analyzeCommand(dir, { ...options, print: true });
    return;
  }
  // As for one receiver: a capture replayed from S3 is fetched again for the market (replay-source.ts).
  const result = await withRunCapture(
    resolve(dir),
    { log: (line) => process.stderr.write(`${line}\n`) },
    (replayCapture) =>
      analyzeLocalReceivers(dir, receivers, {
        minDifferenceMs: options.minDifferenceMs,
        minDifferenceShare: options.minDifferenceShare,
        replayCapture,
      }),
  );
  process.stdout.write(`${formatReceiversOutput(result, dir)}\n`);
}

/**
 * The receivers of a run folder written by `feedpath run --receivers` (run.json `receivers`, with a
 * folder each under receivers/); null for a single-receiver folder (files at its top).
 */
async function multiReceiverNames(dir: string): Promise<string[] | null> {
  // An unreadable run.json is the analysis' to report.
  const run = await readJsonWith(new LocalFolderStore(resolve(dir)), RUN_FILE, runFileSchema).catch(
    () => null,
  );
  const receivers = run?.receivers ?? [];
  return receivers.length > 1 ? receivers.filter((r) => r.dropped === undefined).map((r) => r.name) : null;
}

/**
 * Analyses the results folder `dir` and writes `<path>-results.json`, report.json, report.md and
 * report.html into it. Throws FeedpathError (no stack trace for the user) when the folder is missing
 * (FP_BAD_INPUT) or when no path has a readable sample (FP_NOTHING_TO_ANALYZE); unreadable rows are
 * skipped and counted in the report.
 */
export async function analyzeCommand(
  dir: string,
  options: AnalyzeCommandOptions = {},
): Promise<AnalyzeResult> {
  const folder = resolve(dir);
  const info = await stat(folder).catch(() => null);
  if (info === null) throw new FeedpathError(ErrorCode.badInput, `results folder ${folder} does not exist`);
  if (!info.isDirectory()) throw new FeedpathError(ErrorCode.badInput, `${folder} is not a folder`);
  const kind = parseKind(options.streamKind);
  // A run that replayed a capture from S3, analysed again later: its market comes from the capture.
  const result = await withRunCapture(folder, { s3: options.s3, log: options.log }, (replayCapture) =>
    analyzeRun(new LocalFolderStore(folder), '', {
      streamKind: kind,
      clockErrorBoundMs: options.clockErrorBoundMs,
      maxLatencyMs: options.maxLatencyMs,
      minDifferenceMs: options.minDifferenceMs,
      minDifferenceShare: options.minDifferenceShare,
      log: options.log,
      replayCapture,
    }),
  );
  const analyzed: AnalyzeResult = { ...result, dir: folder, verdict: result.report.verdict };
  if (options.print !== undefined && options.print !== false) {
    const text = formatAnalyzeOutput(analyzed);
    if (options.print === true) process.stdout.write(`${text}\n`);
    else options.print(text);
  }
  return analyzed;
}

/** The verdict for the terminal. */
export function formatVerdict(report: Report): string {
  return report.verdict;
}

/** Both paths' summaries side by side as a plain-text table (the seed's keys first). */
export function formatSummaryTable(report: Report): string {
  const table = metricsTable(report);
  const rows = [table.head, ...table.rows];
  const widths = table.head.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  const out = [line(table.head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)];
  const p = report.paired;
  if (p !== null && p.delta_ms !== null) {
    const ci = p.median_delta_ci_ms;
    const digits = msDigits(p.delta_ms.median, ci?.low, ci?.high);
    out.push(
      '',
      `paired: ${p.matched.toLocaleString('en-US')} events matched, median delta ${ms(p.delta_ms.median, { sign: true, digits })} ms` +
        (ci === null ? '' : ` (95% CI ${ms(ci.low, { digits })} … ${ms(ci.high, { digits })} ms)`) +
        `, backbone first ${Math.round((p.backbone_first_share ?? 0) * 100)}%`,
    );
  }
  const c = report.control;
  if (c !== null && c !== undefined && c.delta_ms !== null) {
    const ci = c.median_delta_ci_ms;
    const digits = msDigits(c.delta_ms.median, ci?.low, ci?.high);
    out.push(
      `A/A control: ${c.matched.toLocaleString('en-US')} events matched, median delta (control − baseline) ${ms(c.delta_ms.median, { sign: true, digits })} ms` +
        (ci === null ? '' : ` (95% CI ${ms(ci.low, { digits })} … ${ms(ci.high, { digits })} ms)`) +
        `, noise ${c.noise_ms === null ? 'not known' : `${ms(c.noise_ms)} ms`}`,
    );
  }
  const errors = Object.entries(report.data_quality.files)
    .map(([path, f]) => {
      const kinds = Object.entries(f.data_errors ?? {}).map(
        ([kind, e]) => `${e.count.toLocaleString('en-US')} ${kind}`,
      );
      return kinds.length === 0 ? null : `${path} ${kinds.join(', ')}`;
    })
    .filter((line): line is string => line !== null);
  if (errors.length > 0)
    out.push(
      `data errors (not in the statistics, not loss): ${errors.join('; ')}: see the report's data quality`,
    );
  return out.join('\n');
}

/** One line per results file that could not be used at all (wrong header, empty): said once, plainly. */
function formatFileProblems(report: Report): string[] {
  return Object.values(report.data_quality.files)
    .filter((f) => f.status === 'unreadable' || f.status === 'empty')
    .map((f) => `${f.status === 'unreadable' ? 'unreadable' : 'no data'}: ${f.message ?? f.file}`);
}

/** What `feedpath analyze` prints: the verdict, the table and where the files are. */
export function formatAnalyzeOutput(result: AnalyzeResult): string {
  const problems = formatFileProblems(result.report);
  return [
    formatVerdict(result.report),
    ...(problems.length > 0 ? ['', ...problems] : []),
    '',
    formatSummaryTable(result.report),
    '',
    `report: ${result.files.reportHtml}`,
    `        ${result.files.reportJson}`,
    `        ${result.files.reportMarkdown}`,
  ].join('\n');
}
