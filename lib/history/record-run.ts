/**
 * What a run does after its analysis (the local `feedpath run`, the analyze Lambda): append its
 * record to the history and regenerate the trend report from every record.
 */
import { isStoredReport, type StoredReport } from '../report';
import { RECEIVERS_DIR } from '../run-file';
import { folderPrefix, readText, type ResultsStore } from '../store';
import {
  failedHistoryRecord,
  historyRecordFromReport,
  type FailedRunInput,
  type ReceiverOfRun,
} from './record-from-report';
import type { HistoryRecord } from './record';
import { parseJsonObject, type Json } from '../json';
import { appendHistory, listHistoryKeys, readHistory, type SkippedRecord } from './store';
import { buildTrend, formatHistoryJsonl, TREND_FILES, type Trend } from './trend';
import { renderTrendCharts } from './trend-charts';
import { renderTrendHtml } from './trend-html';

/**
 * The trend files are a view derived from the records; two runs that regenerate them at the same
 * time can overwrite each other's view. After writing, the record keys are listed again and the
 * view rebuilt if a record arrived meanwhile, so the last writer's view holds every record; this
 * bounds how often that is retried (the next run or `feedpath history` catches anything later).
 */
const TREND_ROUNDS = 4;

export interface HistoryOptions {
  now?: () => Date;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface TrendFiles {
  /** Where each file is (paths or s3:// URLs). */
  json: string;
  html: string;
  jsonl: string;
}

export interface WriteTrendResult {
  trend: Trend;
  files: TrendFiles;
  skipped: SkippedRecord[];
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((key) => set.has(key));
}

/** Reads every record and writes history.json, history.jsonl and history.html at the store's root. */
export async function writeTrend(
  store: ResultsStore,
  options: HistoryOptions = {},
): Promise<WriteTrendResult> {
  const log = options.log ?? (() => undefined);
  let keys = await listHistoryKeys(store);
  for (let round = 1; ; round++) {
    const read = await readHistory(store, keys);
    for (const s of read.skipped) log(`history: skipped ${s.location}: ${s.reason}`);
    const trend = buildTrend(read, { location: store.describe(''), now: options.now });
    const charts = await renderTrendCharts(trend);
    await store.write(TREND_FILES.json, `${JSON.stringify(trend, null, 2)}\n`, 'application/json');
    await store.write(TREND_FILES.jsonl, formatHistoryJsonl(read.records), 'application/x-ndjson');
    await store.write(TREND_FILES.html, renderTrendHtml(trend, charts), 'text/html; charset=utf-8');
    const after = await listHistoryKeys(store);
    if (sameKeys(keys, after) || round >= TREND_ROUNDS) {
      log(`history: ${trend.runs.length} run(s) in ${store.describe(TREND_FILES.html)}`);
      return {
        trend,
        skipped: read.skipped,
        files: {
          json: store.describe(TREND_FILES.json),
          html: store.describe(TREND_FILES.html),
          jsonl: store.describe(TREND_FILES.jsonl),
        },
      };
    }
    keys = after;
  }
}

export interface RecordRunOptions extends HistoryOptions {
  /** Regenerate the trend report after appending (default true). */
  trend?: boolean;
}

export interface RecordRunResult {
  record: HistoryRecord;
  /** The record's key in the store. */
  key: string;
  trend: WriteTrendResult | null;
}

async function record(
  store: ResultsStore,
  entry: HistoryRecord,
  options: RecordRunOptions,
): Promise<RecordRunResult> {
  const key = await appendHistory(store, entry);
  const receiver = entry.receiver === null ? '' : ` receiver ${entry.receiver}`;
  options.log?.(`history: ${entry.run_id}${receiver} (${entry.status}) recorded in ${store.describe(key)}`);
  const trend = options.trend === false ? null : await writeTrend(store, options);
  return { record: entry, key, trend };
}

/**
 * After a run's analysis: appends its record (`history/year=…/month=…/day=…/<runId>.json`) and
 * regenerates the trend report. `prefix` is the run's key prefix in the store: `runs/YYYY/MM/DD/<runId>/`
 * in the bucket, `<runId>` in a local results folder. Throws FP_STORE_FAILED when the store fails:
 * callers that must not fail because of the history catch it.
 */
export async function recordRun(
  store: ResultsStore,
  prefix: string,
  report: StoredReport,
  options: RecordRunOptions = {},
): Promise<RecordRunResult> {
  const base = folderPrefix(prefix);
  const entry = historyRecordFromReport(report, {
    reportKey: `${base}report.html`,
    metadata: await readRunFiles(store, base),
    now: options.now,
  });
  return record(store, entry, options);
}

export interface RecordReceiversResult {
  /** One per receiver with a report, in the order given. */
  records: { record: HistoryRecord; key: string }[];
  trend: WriteTrendResult | null;
}

/**
 * After a multi-receiver run's analysis (lib/analysis/receivers.ts): appends one record per
 * receiver with a report (`history/…/<runId>@<receiver>.json`, its `receiver` field naming it), then
 * regenerates the trend report once. A receiver without a report (its analysis failed) has no
 * record: the matrix report names it. Throws FP_STORE_FAILED as recordRun does.
 */
export async function recordReceivers(
  store: ResultsStore,
  prefix: string,
  receivers: readonly (ReceiverOfRun & { report: StoredReport | null })[],
  options: RecordRunOptions = {},
): Promise<RecordReceiversResult> {
  const base = folderPrefix(prefix);
  const metadata = await readRunFiles(store, base);
  const records: RecordReceiversResult['records'] = [];
  for (const { report, ...receiver } of receivers) {
    if (report === null) continue;
    const entry = historyRecordFromReport(report, {
      reportKey: `${base}${RECEIVERS_DIR}/${receiver.name}/report.html`,
      metadata,
      receiver,
      now: options.now,
    });
    const { key } = await record(store, entry, { ...options, trend: false });
    records.push({ record: entry, key });
  }
  const trend = options.trend === false ? null : await writeTrend(store, options);
  return { records, trend };
}

/**
 * After a run failed: appends a failed record with its cause and regenerates the trend report.
 * With `prefix`, the run's input.json and run.json (when there) say what it was, and a report.json
 * it wrote before failing (e.g. when only its teardown failed) supplies its measurements; the record
 * is failed all the same.
 */
export async function recordFailedRun(
  store: ResultsStore,
  failure: FailedRunInput & { prefix?: string },
  options: RecordRunOptions = {},
): Promise<RecordRunResult> {
  const base = failure.prefix === undefined ? null : folderPrefix(failure.prefix);
  const files = base === null ? { input: null, run: null } : await readRunFiles(store, base);
  const report = base === null ? null : await readReport(store, base);
  const entry =
    report === null
      ? failedHistoryRecord({
          now: options.now,
          ...failure,
          input: files.input ?? failure.input,
          run: files.run ?? failure.run,
        })
      : historyRecordFromReport(report, {
          runId: failure.runId,
          reportKey: `${base}report.html`,
          failure: { error: failure.error ?? null, cause: failure.cause },
          metadata: files,
          now: options.now ?? failure.now,
        });
  return record(store, entry, options);
}

async function readObject(store: ResultsStore, key: string): Promise<Json | null> {
  return parseJsonObject(await readText(store, key));
}

/** The run's input.json and run.json under `prefix` (null when missing or not a JSON object). */
export async function readRunFiles(
  store: ResultsStore,
  prefix: string,
): Promise<{ input: Json | null; run: Json | null }> {
  const base = folderPrefix(prefix);
  return {
    input: await readObject(store, `${base}input.json`),
    run: await readObject(store, `${base}run.json`),
  };
}

/**
 * The run's report.json, or null when there is none or it is not a feedpath run report of a
 * version this code reads (REPORT_SCHEMAS: an older one lacks the parts added since).
 */
export async function readReport(store: ResultsStore, prefix: string): Promise<StoredReport | null> {
  const text = await readText(store, `${folderPrefix(prefix)}report.json`);
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isStoredReport(value) ? value : null;
  } catch {
    return null;
  }
}
