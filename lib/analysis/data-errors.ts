/**
 * Data errors: rows of a results file that say something about the file, not about the network.
 * They are counted with their kind and line, kept out of every statistic, and never counted as loss
 * (DESIGN.md: "a row that cannot be read, a duplicate or a non-physical value is a data error").
 *
 * - unreadable: a row or cell that cannot be parsed. A row whose sequence_id can be read keeps its
 *   id (the event was recorded, so it is neither lost nor unmatched) but enters no statistic.
 * - non-physical: a latency below 0, above the absolute bound (maxLatencyMs), longer than the run
 *   (see validate.ts), or disagreeing with the row's own timestamps (csv-row-checks.ts).
 * - duplicate: an event already recorded on the path; the first arrival (file order) is kept.
 * - clock step back: the receiver's time (frankfurt_time) going back in file order (csv-row-checks.ts).
 */

export const DATA_ERROR_KINDS = ['unreadable', 'non-physical', 'duplicate', 'clock step back'] as const;
export type DataErrorKind = (typeof DATA_ERROR_KINDS)[number];

/** Per-row flag codes (a Uint8Array column): 0 is a clean row. */
export const ROW_OK = 0;
export const ROW_FLAG: Record<DataErrorKind, number> = {
  unreadable: 1,
  'non-physical': 2,
  duplicate: 3,
  'clock step back': 4,
};
/**
 * A latency cell that disagrees with its row's timestamps: decided per file once it is read (a
 * foreign tool may define the column differently on every row; see path.ts), then either
 * non-physical or clean.
 */
export const ROW_SUSPECT = 5;

/** Lines kept per kind for the report (all are counted). */
export const MAX_LINES_KEPT = 10;

export interface DataErrorCount {
  count: number;
  /** The first lines of the file with this kind (1-based, the header is line 1). */
  lines: number[];
}

export type DataErrorCounts = Partial<Record<DataErrorKind, DataErrorCount>>;

/** Counts data errors by kind, keeping the first lines of each. */
export class DataErrorLog {
  readonly counts: DataErrorCounts = {};

  add(kind: DataErrorKind, line: number): void {
    const entry = (this.counts[kind] ??= { count: 0, lines: [] });
    entry.count++;
    if (entry.lines.length < MAX_LINES_KEPT) entry.lines.push(line);
  }

  get total(): number {
    return Object.values(this.counts).reduce((n, c) => n + c.count, 0);
  }
}

const NOUNS: Record<DataErrorKind, [string, string]> = {
  unreadable: ['unreadable row', 'unreadable rows'],
  'non-physical': ['non-physical value', 'non-physical values'],
  duplicate: ['duplicate event', 'duplicate events'],
  'clock step back': ['backwards step of the receiver clock', 'backwards steps of the receiver clock'],
};

/** One warning line per kind, e.g. `baseline-results.csv: 608 unreadable rows (lines 12, 40, …)`. */
export function dataErrorWarnings(file: string, counts: DataErrorCounts): string[] {
  const out: string[] = [];
  for (const kind of DATA_ERROR_KINDS) {
    const entry = counts[kind];
    if (entry === undefined || entry.count === 0) continue;
    const noun = NOUNS[kind][entry.count === 1 ? 0 : 1];
    const more = entry.count > entry.lines.length ? ', …' : '';
    const lines = `line${entry.lines.length === 1 && more === '' ? '' : 's'} ${entry.lines.join(', ')}${more}`;
    out.push(
      `${file}: ${entry.count.toLocaleString('en-US')} ${noun} (${lines}): data errors, kept out of the statistics and not counted as loss`,
    );
  }
  return out;
}
