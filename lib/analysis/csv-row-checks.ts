/**
 * The checks of a results CSV row that look past its cells, once they are read (csv-row.ts): its
 * receiver time against the rows before it (a clock stepped back, or a row that jumped ahead), its
 * latency cells against its own timestamps, and latencies no network gives. A row that fails one
 * is a data error (data-errors.ts) or, for a latency cell that disagrees, a suspect row.
 */
import { msSinceEvent } from './csv-fields';
import { RowColumns } from './csv-row-columns';
import { ROW_FLAG, ROW_OK, ROW_SUSPECT } from './data-errors';
import { RowProblems } from './row-problems';

/** Latencies above this are rejected as absurd (a clock or unit error, not a network). */
export const DEFAULT_MAX_LATENCY_MS = 3_600_000;
/**
 * frankfurt_time may go back this much in file order without the row being a data error. The
 * receiver stamps each arrival before it queues it and writes in queue order, so its own files
 * never go back; a file from another tool may interleave writers a little. A step back beyond this
 * (a clock stepped by hand or by NTP, a corrupted cell) makes the row a data error: its times are
 * not comparable with its neighbours'.
 */
export const CLOCK_STEP_TOLERANCE_MS = 100;
/**
 * How far a latency cell may differ from the one its row's timestamps give (frankfurt_time − event
 * time; frankfurt_time − tokyo_time for the backbone leg), beyond the event time's resolution
 * (1 µs with exchange_time_us, 1 ms with only binance_time): room for a foreign tool that reads
 * its clock twice. A cell further off (`1e3` where the times say 118.9) was not computed from them.
 */
export const LATENCY_CELL_TOLERANCE_MS = 1;

/** The checks and their state; the row reader extends it. */
export class RowChecks extends RowProblems {
  protected readonly maxLatencyMs: number;
  /** The rows stored so far: a lone jump ahead is found one row late, and re-flagged here. */
  protected readonly columns = new RowColumns();
  protected latencyChecked = 0;
  protected latencySuspects = 0;
  // Receiver time in file order: the highest clean arrival so far, the row that set it (and its
  // line), and the highest before it, to tell a lone jump forward from a step back.
  private maxArrival = -Infinity;
  private maxRow = -1;
  private maxRowLine = 0;
  private maxBefore = -Infinity;

  constructor(source: string, maxLatencyMs: number | undefined) {
    super(source);
    this.maxLatencyMs = maxLatencyMs ?? DEFAULT_MAX_LATENCY_MS;
  }

  /**
   * The times of row `row`, a clean row with a frankfurt_time (`arrival`, ns since the epoch
   * second; also as seconds + ns): against the rows before it, then its latency cells against its
   * timestamps (NaN: empty). Passed one by one, not as an object: a row allocates nothing.
   */
  protected checkTimes(
    row: number,
    arrival: number,
    frankfurtSec: number,
    frankfurtNs: number,
    e2e: number,
    eventUs: number,
    eventFromUs: boolean,
    leg: number,
    tokyoSec: number,
    tokyoNs: number,
  ): void {
    this.checkClock(arrival, row);
    // Asked again: checkClock may have flagged the row.
    if (this.rowFlag !== ROW_OK) return;
    // The latency cells against the row's own times (see LATENCY_CELL_TOLERANCE_MS).
    let checked = false;
    let off = false;
    if (e2e === e2e && eventUs === eventUs) {
      const fromTimes = msSinceEvent(frankfurtSec, frankfurtNs, eventUs);
      checked = true;
      off = Math.abs(e2e - fromTimes) > (eventFromUs ? 0.001 : 1) + LATENCY_CELL_TOLERANCE_MS;
    }
    if (!off && leg === leg && tokyoSec === tokyoSec) {
      const fromTimes = ((frankfurtSec - tokyoSec) * 1e9 + (frankfurtNs - tokyoNs)) / 1e6;
      checked = true;
      off = Math.abs(leg - fromTimes) > 0.001 + LATENCY_CELL_TOLERANCE_MS;
    }
    if (checked) this.latencyChecked++;
    if (off) {
      this.latencySuspects++;
      this.rowFlag = ROW_SUSPECT;
    }
    if (this.rowFlag === ROW_OK && arrival > this.maxArrival) {
      this.maxBefore = this.maxArrival;
      this.maxArrival = arrival;
      this.maxRow = row;
      this.maxRowLine = this.line;
    }
  }

  /**
   * Receiver time in file order. A row more than the tolerance below the highest time so far is a
   * data error, unless the row that set that high stood alone (the row before it was in line with
   * this one): then that row jumped ahead and is the error. A lasting step back flags every row
   * until the clock is past its old high again: their times cannot be compared with the others'.
   */
  private checkClock(arrival: number, row: number): void {
    const tolerance = CLOCK_STEP_TOLERANCE_MS * 1e6;
    if (arrival >= this.maxArrival - tolerance) return;
    if (this.maxRow === row - 1 && arrival >= this.maxBefore - tolerance) {
      this.columns.flags.set(this.maxRow, ROW_FLAG['clock step back']);
      this.dataErrors.add('clock step back', this.maxRowLine);
      this.note(
        'receiver time out of order',
        `frankfurt_time jumps ${((this.maxArrival - arrival) / 1e6).toFixed(3)} ms ahead of the next row`,
        this.maxRowLine,
      );
      this.maxArrival = this.maxBefore;
      this.maxRow = -1;
      return;
    }
    this.flag(
      'clock step back',
      'receiver time out of order',
      `frankfurt_time steps back ${((this.maxArrival - arrival) / 1e6).toFixed(3)} ms`,
    );
  }

  /** A latency cell below 0 or above the maximum (the caller compares: no call for a good one). */
  protected implausible(value: number, column: string): void {
    this.flag(
      'non-physical',
      'implausible latency',
      value < 0
        ? `negative ${column} ${value}`
        : `absurd ${column} ${value} (more than ${this.maxLatencyMs} ms)`,
    );
  }
}
