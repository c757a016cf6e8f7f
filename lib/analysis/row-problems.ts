/**
 * What is wrong with the rows of a results CSV, as the reader (csv.ts) meets it: each problem row
 * is counted by its detailed reason and kept with its line (the first few), and a row that is a
 * data error carries its kind's flag (data-errors.ts).
 */
import { COMMA, CR, latin1, NEWLINE } from './csv-fields';
import { DataErrorLog, ROW_FLAG, ROW_OK, type DataErrorKind } from './data-errors';
import type { RowProblem } from './path-columns';

/** How many problem rows are kept with their line for the report (all are counted). */
export const MAX_PROBLEMS_KEPT = 20;

/** The problem bookkeeping of one file's rows; the reader extends it. */
export class RowProblems {
  protected line = 0;
  protected rows = 0;
  protected skipped = 0;
  protected readonly problems: RowProblem[] = [];
  protected readonly problemCounts: Record<string, number> = {};
  protected readonly dataErrors = new DataErrorLog();
  protected readonly unreadableAt: number[] = [];
  /** The current row's flag (one kind per row: the first problem found). */
  protected rowFlag = ROW_OK;

  constructor(readonly source: string) {}

  protected note(reason: string, detail: string, line = this.line): void {
    this.problemCounts[reason] = (this.problemCounts[reason] ?? 0) + 1;
    if (this.problems.length < MAX_PROBLEMS_KEPT) {
      this.problems.push({ line, message: `${this.source}:${line}: ${detail}` });
    }
  }

  /** The current row is a data error of `kind` (only its first problem counts). */
  protected flag(kind: DataErrorKind, reason: string, detail: string): void {
    if (this.rowFlag !== ROW_OK) return;
    this.rowFlag = ROW_FLAG[kind];
    this.dataErrors.add(kind, this.line);
    this.note(reason, detail);
  }

  /** The current line gives no event (no readable id, or no stream in a file that has one). */
  protected drop(reason: string, detail: string): void {
    this.skipped++;
    this.unreadableAt.push(this.rows);
    // A bad cell before the line ran out was counted already: one data error per line.
    if (this.rowFlag !== ROW_OK) return;
    this.dataErrors.add('unreadable', this.line);
    this.note(reason, detail);
  }

  protected cellText(buf: Buffer, p: number): string {
    let q = p;
    while (q < buf.length && buf[q] !== COMMA && buf[q] !== NEWLINE && buf[q] !== CR) q++;
    return latin1(buf, p, Math.min(q, p + 40));
  }

  protected badField(buf: Buffer, p: number, reason: string, column: string, problem: string): void {
    this.flag('unreadable', reason, `${column} "${this.cellText(buf, p)}" ${problem}`);
  }
}
