/**
 * The validation of a path's rows before any statistic: the data errors only a whole file shows
 * (duplicates, latencies longer than the run, latency cells that disagree with their row's times)
 * join those the reader flagged (csv.ts), and every flagged row is taken out of the statistics.
 */
import { upperBound } from '../stats';
import { ROW_FLAG, ROW_OK, ROW_SUSPECT } from './data-errors';
import { orderByGroupAndId } from './order';
import type { PathColumns } from './path-columns';
import { MAX_PROBLEMS_KEPT } from './row-problems';

/**
 * A latency longer than the run is non-physical: the event would have been generated before the
 * path's first arrival while the path delivers each stream in order, so it is a clock or unit
 * error, not a network. "The run" is the longer of the path's own span of receive time and the
 * duration the run asked for; a run this short cannot tell a slow network (1 s latencies happen)
 * from a broken clock, so latencies up to this bound are always believed.
 */
export const MIN_PHYSICAL_BOUND_MS = 10_000;

export interface ValidateOptions {
  /** The run's asked-for duration, ms (input.json), for the "longer than the run" rule. */
  runDurationMs?: number;
}

/**
 * Finds the data errors only a whole file shows (duplicates, latencies longer than the run, a
 * latency column that disagrees with the times on some rows), then takes every flagged row out of
 * the statistics: its latencies and its arrival (for the paired delta) become NaN, its id stays.
 */
export function settleDataErrors(
  columns: PathColumns,
  orders: readonly Uint32Array[],
  options: ValidateOptions,
): string[] {
  const { flags, seq, dataErrors } = columns;
  const notes: string[] = [];
  const lineOf = (row: number): number =>
    2 + row + upperBound(columns.unreadableAt, row) + upperBound(columns.blankAt, row);
  const note = (row: number, reason: string, detail: string): void => {
    columns.problemCounts[reason] = (columns.problemCounts[reason] ?? 0) + 1;
    if (columns.problems.length < MAX_PROBLEMS_KEPT) {
      const line = lineOf(row);
      columns.problems.push({ line, message: `${columns.source}:${line}: ${detail}` });
    }
  };

  // Duplicates: the first row of an id in id order is its first arrival (the sort is stable).
  for (const order of orders) {
    for (let k = 1; k < order.length; k++) {
      const row = order[k] as number;
      if (seq[row] !== seq[order[k - 1] as number]) continue;
      const flag = flags[row] as number;
      if (flag !== ROW_OK && flag !== ROW_SUSPECT) continue;
      flags[row] = ROW_FLAG.duplicate;
      dataErrors.add('duplicate', lineOf(row));
      note(row, 'duplicate', `sequence_id ${seq[row]} recorded again (the first arrival is kept)`);
    }
  }

  // Latency cells that disagree with their row's times: data errors when they are the exception;
  // when they are most of the file, its tool defines the column otherwise and nothing is flagged.
  if (columns.latencySuspects > 0) {
    const exception = columns.latencySuspects * 2 <= columns.latencyChecked;
    if (!exception) {
      notes.push(
        `${columns.source}: the latency cells disagree with frankfurt_time − event time on ${columns.latencySuspects} of ${columns.latencyChecked} rows: the file's tool computes them otherwise, so they were not checked`,
      );
    }
    for (let row = 0; row < flags.length; row++) {
      if (flags[row] !== ROW_SUSPECT) continue;
      if (exception) {
        flags[row] = ROW_FLAG['non-physical'];
        dataErrors.add('non-physical', lineOf(row));
        note(row, 'latency disagrees with times', `latency cell disagrees with the row's timestamps`);
      } else flags[row] = ROW_OK;
    }
  }

  // Latencies longer than the run (MIN_PHYSICAL_BOUND_MS).
  let first = Infinity;
  let last = -Infinity;
  for (let row = 0; row < flags.length; row++) {
    const t = columns.arrivalNs[row] as number;
    if (flags[row] !== ROW_OK || t !== t) continue;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const spanMs = first <= last ? (last - first) / 1e6 : 0;
  const bound = Math.max(spanMs, options.runDurationMs ?? 0, MIN_PHYSICAL_BOUND_MS);
  const leg = columns.legMs;
  for (let row = 0; row < flags.length; row++) {
    if (flags[row] !== ROW_OK) continue;
    const e2e = columns.e2eMs[row] as number;
    const legMs = leg === null ? NaN : (leg[row] as number);
    if (e2e > bound || legMs > bound) {
      flags[row] = ROW_FLAG['non-physical'];
      dataErrors.add('non-physical', lineOf(row));
      note(
        row,
        'longer than the run',
        `latency ${Math.max(e2e === e2e ? e2e : 0, legMs === legMs ? legMs : 0)} ms is longer than the run (${Math.round(bound)} ms)`,
      );
    }
  }

  // Out of every statistic.
  const exFwd = columns.exchangeToForwarderMs;
  for (let row = 0; row < flags.length; row++) {
    if (flags[row] === ROW_OK) continue;
    columns.e2eMs[row] = NaN;
    columns.arrivalNs[row] = NaN;
    if (leg !== null) leg[row] = NaN;
    if (exFwd !== null) exFwd[row] = NaN;
  }
  return notes;
}

/**
 * Takes a path's data errors out of its raw columns as {@link analyzePath} does (their latencies and
 * arrival become NaN), for readers of the raw columns such as the lab check.
 */
export function excludeDataErrors(columns: PathColumns, options: ValidateOptions = {}): void {
  settleDataErrors(columns, orderByGroupAndId(columns.group, columns.groups.length, columns.seq), options);
}
