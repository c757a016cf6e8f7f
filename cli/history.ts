/**
 * `feedpath history <dir-or-s3-uri>`: the trend report over a results folder's (or a bucket's) run
 * history — history.html, history.json and history.jsonl at its root. Runs analysed before the
 * history existed (a report.json without a record) are added to it first, unless told not to.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ErrorCode, FeedpathError } from '../lib/errors';
import {
  appendHistory,
  HISTORY_PREFIX,
  historyRecordFromReport,
  prefixedStore,
  readHistory,
  readReport,
  readRunFiles,
  runFacts,
  runIdOfPrefix,
  writeTrend,
  type SkippedRecord,
  type TrendFiles,
} from '../lib/history';
import { LocalFolderStore, S3Store, type ResultsStore } from '../lib/store';
import { RECEIVERS_DIR } from '../lib/run-file';

export interface HistoryCommandOptions {
  /** Add a record for every run with a report.json but no record yet (default true). */
  backfill?: boolean;
  /** The S3 client for an s3:// target (default: one for `region`, following region redirects). */
  s3?: S3Client;
  /** Region of that default client (default: AWS_REGION, else eu-central-1). */
  region?: string;
  log?: (line: string) => void;
  /** Print the headline and the files when done: `true` to stdout, or a function that gets the text. */
  print?: boolean | ((text: string) => void);
  now?: () => Date;
}

export interface HistoryCommandResult {
  /** The store's root: a folder or an s3:// URL. */
  location: string;
  headline: string;
  runs: number;
  /** Run ids added from their report.json. */
  backfilled: string[];
  skipped: SkippedRecord[];
  files: TrendFiles;
}

interface Target {
  store: ResultsStore;
  /** Where runs' report.json files are looked for when backfilling. */
  runsPrefix: string;
  /** A name for a run found at the root (a single run folder given as the target). */
  rootName: string;
}

async function openTarget(target: string, options: HistoryCommandOptions): Promise<Target> {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(target);
  if (s3 !== null) {
    const bucket = s3[1] as string;
    const prefix = s3[2] ?? '';
    const client =
      options.s3 ??
      new S3Client({
        region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'eu-central-1',
        followRegionRedirects: true,
      });
    return {
      store: prefixedStore(new S3Store({ client, bucket }), prefix),
      runsPrefix: prefix === '' ? 'runs/' : '',
      rootName: runIdOfPrefix(prefix) ?? bucket,
    };
  }
  if (target.startsWith('s3:')) {
    throw new FeedpathError(
      ErrorCode.badInput,
      `"${target}" is not an S3 URI: expected s3://bucket[/prefix]`,
    );
  }
  const folder = resolve(target);
  const info = await stat(folder).catch(() => null);
  if (info === null) throw new FeedpathError(ErrorCode.badInput, `results folder ${folder} does not exist`);
  if (!info.isDirectory()) throw new FeedpathError(ErrorCode.badInput, `${folder} is not a folder`);
  return { store: new LocalFolderStore(folder), runsPrefix: '', rootName: basename(folder) };
}

/** The receiver's folder of a report under `<run>/receivers/<name>/`, with the run's prefix; else null. */
const RECEIVER_REPORT = new RegExp(`^(.*?)${RECEIVERS_DIR}/([^/]+)/$`);

/** Records runs that have a report but no history record; returns their ids. */
async function backfill(target: Target, options: HistoryCommandOptions): Promise<string[]> {
  const { store } = target;
  const reportKeys = (await store.list(target.runsPrefix)).filter(
    (key) => (key === 'report.json' || key.endsWith('/report.json')) && !key.startsWith(HISTORY_PREFIX),
  );
  if (reportKeys.length === 0) return [];
  const known = new Set((await readHistory(store)).records.map((r) => r.report));
  // A multi-receiver run's root holds the matrix; its receivers' own reports are recorded instead.
  const prefixes = reportKeys.map((key) => key.slice(0, key.length - 'report.json'.length));
  const matrices = new Set(prefixes.map((prefix) => RECEIVER_REPORT.exec(prefix)?.[1]));
  const added: string[] = [];
  for (const [i, key] of reportKeys.entries()) {
    const prefix = prefixes[i] as string;
    if (known.has(`${prefix}report.html`) || matrices.has(prefix)) continue;
    const report = await readReport(store, prefix);
    if (report === null) {
      options.log?.(`history: ${store.describe(key)} is not a feedpath report: not added`);
      continue;
    }
    // One receiver of a multi-receiver run: the run's own files are at its root, and the record
    // names the receiver (its own key, not the run's).
    const receiverOf = RECEIVER_REPORT.exec(prefix);
    const runPrefix = receiverOf === null ? prefix : (receiverOf[1] as string);
    const metadata = receiverOf === null ? undefined : await readRunFiles(store, runPrefix);
    const facts = runFacts(metadata?.input ?? report.metadata.input, metadata?.run ?? report.metadata.run);
    const record = historyRecordFromReport(report, {
      runId: facts.runId ?? runIdOfPrefix(runPrefix) ?? target.rootName,
      reportKey: `${prefix}report.html`,
      now: options.now,
      ...(receiverOf === null ? {} : { metadata, receiver: { name: receiverOf[2] as string } }),
    });
    await appendHistory(store, record);
    added.push(record.run_id);
    options.log?.(`history: added ${record.run_id} from ${store.describe(key)}`);
  }
  return added;
}

/**
 * Builds the trend report of a results folder or an `s3://bucket[/prefix]` and writes it at its
 * root. Unreadable records are reported and skipped; a missing folder is FP_BAD_INPUT, a store that
 * cannot be listed, read or written FP_STORE_FAILED.
 */
export async function historyCommand(
  target: string,
  options: HistoryCommandOptions = {},
): Promise<HistoryCommandResult> {
  const opened = await openTarget(target, options);
  const backfilled = options.backfill === false ? [] : await backfill(opened, options);
  const written = await writeTrend(opened.store, { now: options.now, log: options.log });
  const result: HistoryCommandResult = {
    location: opened.store.describe(''),
    headline: written.trend.headline,
    runs: written.trend.runs.length,
    backfilled,
    skipped: written.skipped,
    files: written.files,
  };
  if (options.print !== undefined && options.print !== false) {
    const text = formatHistoryOutput(result);
    if (options.print === true) process.stdout.write(`${text}\n`);
    else options.print(text);
  }
  return result;
}

/** What `feedpath history` prints: the headline, what was added or skipped, where the files are. */
export function formatHistoryOutput(result: HistoryCommandResult): string {
  const lines = [result.headline, ''];
  if (result.backfilled.length > 0)
    lines.push(`${result.backfilled.length} run(s) added to the history from their report.json`);
  for (const s of result.skipped) lines.push(`skipped ${s.location}: ${s.reason}`);
  lines.push(
    `history: ${result.files.html}`,
    `         ${result.files.json}`,
    `         ${result.files.jsonl}`,
  );
  return lines.join('\n');
}
