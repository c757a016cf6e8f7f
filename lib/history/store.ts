/**
 * The run history in a results store: one object per run, never a shared file. Two runs that
 * finish at the same moment write two different keys, so neither can lose the other's record (an
 * append to one `history.jsonl` would be a read-modify-write race in S3). Reading lists the
 * records and parses each one; a record that cannot be read is reported and skipped.
 */
import { describeIssues } from '../zod-issues';
import { readText, type ResultsStore } from '../store';
import {
  formatHistoryRecord,
  HISTORY_PREFIX,
  historyKey,
  historyRecordSchema,
  type HistoryRecord,
} from './record';

/** How many records are read at once from the store (S3 GETs are latency-bound). */
const READ_CONCURRENCY = 16;

/** Writes the run's record as its own object; returns its key. Writing it again replaces it. */
export async function appendHistory(store: ResultsStore, record: HistoryRecord): Promise<string> {
  const key = historyKey(record);
  await store.write(key, formatHistoryRecord(record), 'application/json');
  return key;
}

export interface SkippedRecord {
  key: string;
  /** Where it is (a path or an s3:// URL) and why it was skipped. */
  location: string;
  reason: string;
}

export interface HistoryRead {
  /** One per run id (the most recently recorded wins), oldest run first. */
  records: HistoryRecord[];
  /** Keys of the records read. */
  keys: string[];
  skipped: SkippedRecord[];
}

/** Every record key under `history/` (the objects the Glue table reads). */
export async function listHistoryKeys(store: ResultsStore): Promise<string[]> {
  return (await store.list(HISTORY_PREFIX)).filter((key) => key.endsWith('.json'));
}

function parseRecord(text: string): { record: HistoryRecord } | { reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { reason: `not valid JSON (${(error as Error).message})` };
  }
  const result = historyRecordSchema.safeParse(value);
  if (!result.success) return { reason: `not a history record: ${describeIssues(result.error)}` };
  return { record: result.data };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Lists and parses every record. A record that is not JSON or not a history record is reported in
 * `skipped` (with why) and left out; store failures (listing, reading) throw FP_STORE_FAILED.
 */
export async function readHistory(store: ResultsStore, keys?: readonly string[]): Promise<HistoryRead> {
  const found = keys ?? (await listHistoryKeys(store));
  const skipped: SkippedRecord[] = [];
  const byRun = new Map<string, HistoryRecord>();
  const read = await mapLimit(found, READ_CONCURRENCY, async (key) => ({
    key,
    text: await readText(store, key),
  }));
  for (const { key, text } of read) {
    // Listed then gone (replaced or deleted meanwhile): nothing to report.
    if (text === null) continue;
    const parsed = parseRecord(text.trim());
    if ('reason' in parsed) {
      skipped.push({ key, location: store.describe(key), reason: parsed.reason });
      continue;
    }
    // The latest record per run, and per receiver of a run with several.
    const id = `${parsed.record.run_id}\u0000${parsed.record.receiver ?? ''}`;
    const seen = byRun.get(id);
    if (seen === undefined || seen.recorded_at <= parsed.record.recorded_at) byRun.set(id, parsed.record);
  }
  const records = [...byRun.values()].sort(
    (a, b) =>
      Date.parse(a.started_at) - Date.parse(b.started_at) ||
      a.run_id.localeCompare(b.run_id) ||
      (a.receiver ?? '').localeCompare(b.receiver ?? ''),
  );
  return { records, keys: [...found], skipped };
}

/** A store seen from one of its prefixes (`s3://bucket/team-a/` holds its own `history/`). */
export function prefixedStore(store: ResultsStore, prefix: string): ResultsStore {
  if (prefix === '') return store;
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    describe: (key) => store.describe(`${base}${key}`),
    list: async (p) => (await store.list(`${base}${p}`)).map((key) => key.slice(base.length)),
    readStream: (key) => store.readStream(`${base}${key}`),
    write: (key, body, contentType) => store.write(`${base}${key}`, body, contentType),
  };
}
