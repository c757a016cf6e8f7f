/**
 * Streaming reader of a path's results CSV (`<path>-results.csv`) into typed columns.
 *
 * The rows are parsed byte by byte, straight from the stream's buffers: decoding 10 million lines to
 * strings and splitting them would take most of the time budget and a lot of garbage. Timestamps in
 * ns since the epoch have 19 digits, beyond a double's 2⁵³, so they are split into seconds and
 * nanoseconds and stored relative to one epoch second shared by both paths: every arrival and
 * difference of arrivals is then an exact integer number of ns in a double (for runs < 104 days).
 *
 * A row with a problem is a data error (data-errors.ts), counted with its kind and line: a row whose
 * sequence_id can be read is kept with a flag (its event was recorded: neither lost nor unmatched,
 * but in no statistic); a row without a readable id is skipped, and its place in the file is kept so
 * that a gap in the ids it explains is not counted as loss. A file that cannot be read at all
 * (missing, empty, header not the seed's) throws FP_BAD_RESULTS.
 */
import { ErrorCode, FeedpathError } from '../errors';
import type { StreamKind } from '../binance';
import { F64Column, OptionalF64Column, U16Column, U8Column } from './columns';
import {
  CR,
  cursor,
  EMPTY,
  fieldDecimal,
  fieldNs,
  fieldUint,
  fieldWasEmpty,
  INVALID,
  msSinceEvent,
  NEWLINE,
  nsNanos,
  nsSeconds,
  skipField,
} from './csv-fields';
import { ROW_FLAG, ROW_OK, ROW_SUSPECT } from './data-errors';
import type { ArrivalEpoch, PathColumns, ReadOptions } from './path-columns';
import { readHeader } from './csv-header';
import { RowProblems } from './row-problems';
import { StreamGroups } from './stream-groups';

/** Latencies above this are rejected as absurd (a clock or unit error, not a network). */
export const DEFAULT_MAX_LATENCY_MS = 3_600_000;
/**
 * Kind assumed for rows without a stream name (seed-format CSVs from another tool): the seed
 * experiment's `sequence_id` is a contiguous exchange id, so gaps are read as trade-id gaps unless
 * the caller (or the run's input.json) says which stream kind the file holds.
 */
export const ASSUMED_KIND: StreamKind = 'trade';
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

/** Reads one path's CSV from a stream of buffers. */
export class PathCsvReader extends RowProblems {
  private readonly epoch: ArrivalEpoch;
  private readonly maxLatencyMs: number;

  private leftover: Buffer | null = null;
  private headerSeen = false;
  private streamCol = -1;
  private symbolCol = -1;
  private exchangeUsCol = -1;
  private firstIdCol = -1;
  private connectionCol = -1;
  private priceCol = -1;
  private quantityCol = -1;
  private lastUsedCol = -1;

  private readonly blankAt: number[] = [];
  private latencyChecked = 0;
  private latencySuspects = 0;
  // Receiver time in file order: the highest clean arrival so far, the row that set it (and its
  // line), and the highest before it, to tell a lone jump forward from a step back.
  private maxArrival = -Infinity;
  private maxRow = -1;
  private maxRowLine = 0;
  private maxBefore = -Infinity;

  private readonly streams: StreamGroups;

  private readonly flags = new U8Column();
  private readonly group = new U16Column();
  private readonly seq = new F64Column();
  private readonly firstId = new OptionalF64Column();
  private readonly connection = new OptionalF64Column();
  private readonly eventUs = new OptionalF64Column();
  private readonly price = new OptionalF64Column();
  private readonly quantity = new OptionalF64Column();
  private readonly arrival = new F64Column();
  private readonly e2e = new F64Column();
  private readonly leg = new OptionalF64Column();
  private readonly exFwd = new OptionalF64Column();

  constructor(source: string, options: ReadOptions) {
    super(source);
    this.epoch = options.epoch;
    this.maxLatencyMs = options.maxLatencyMs ?? DEFAULT_MAX_LATENCY_MS;
    this.streams = new StreamGroups(source, options.defaultKind ?? ASSUMED_KIND);
  }

  /** Feeds the next bytes of the file. */
  feed(bytes: Uint8Array): void {
    // Always a Buffer: one element type keeps the byte loops monomorphic (fast) in V8.
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let start = 0;
    if (this.leftover !== null) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        this.leftover = concat(this.leftover, chunk);
        return;
      }
      const joined = concat(this.leftover, chunk.subarray(0, nl));
      this.leftover = null;
      this.processLine(joined, 0, joined.length);
      start = nl + 1;
    }
    const n = chunk.length;
    while (start < n) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        this.leftover = Buffer.from(chunk.subarray(start));
        return;
      }
      this.processLine(chunk, start, nl);
      start = nl + 1;
    }
  }

  /** Ends the file and returns its columns. */
  finish(): PathColumns {
    if (this.leftover !== null) {
      const last = this.leftover;
      this.leftover = null;
      this.processLine(last, 0, last.length);
    }
    if (!this.headerSeen) {
      throw new FeedpathError(ErrorCode.badResults, `${this.source} is empty (expected the header line)`);
    }
    return {
      source: this.source,
      rows: this.rows,
      skipped: this.skipped,
      problems: this.problems,
      problemCounts: this.problemCounts,
      flags: this.flags.finish(),
      dataErrors: this.dataErrors,
      unreadableAt: this.unreadableAt,
      blankAt: this.blankAt,
      latencyChecked: this.latencyChecked,
      latencySuspects: this.latencySuspects,
      epochSecond: this.epoch.second,
      hasStreamColumn: this.streamCol >= 0,
      groups: this.streams.groups,
      group: this.group.finish(),
      seq: this.seq.finish(),
      firstId: this.firstId.finish(),
      connection: this.connection.finish(),
      eventUs: this.eventUs.finish(),
      price: this.price.finish(),
      quantity: this.quantity.finish(),
      arrivalNs: this.arrival.finish(),
      e2eMs: this.e2e.finish(),
      legMs: this.leg.finish(),
      exchangeToForwarderMs: this.exFwd.finish(),
    };
  }

  private header(buf: Buffer, s: number, e: number): void {
    const columns = readHeader(buf, s, e, `${this.source}:${this.line}`);
    this.streamCol = columns.stream;
    this.symbolCol = columns.symbol;
    this.exchangeUsCol = columns.exchangeUs;
    this.firstIdCol = columns.firstId;
    this.connectionCol = columns.connection;
    this.priceCol = columns.price;
    this.quantityCol = columns.quantity;
    this.lastUsedCol = columns.lastUsed;
    this.headerSeen = true;
  }

  private processLine(buf: Buffer, s: number, e: number): void {
    this.line++;
    if (e > s && buf[e - 1] === CR) e--;
    if (!this.headerSeen) {
      if (e === s) {
        throw new FeedpathError(
          ErrorCode.badResults,
          `${this.source}:${this.line}: header is not the seed's: the first line is blank`,
        );
      }
      this.header(buf, s, e);
      return;
    }
    if (e === s) {
      this.blankAt.push(this.rows); // blank line (e.g. at the end): nothing to count
      return;
    }
    this.rowFlag = ROW_OK;

    // The six seed columns, each parsed in the same pass that finds its end (`cursor`). A bad cell
    // flags the row and parsing goes on: the stream and symbol cells still say which event it was.
    const seq = fieldUint(buf, s, e);
    if (seq < 0) {
      return this.drop('bad sequence_id', `sequence_id "${this.cellText(buf, s)}" is not a whole number`);
    }
    let eventUs = NaN;
    let eventFromUs = false;
    let tokyoSec = NaN;
    let tokyoNs = 0;
    let frankfurtSec = NaN;
    let frankfurtNs = 0;
    let arrival = NaN;
    let e2e = NaN;
    let leg = NaN;
    let firstId = NaN;
    let connection = NaN;
    let price = NaN;
    let quantity = NaN;
    let streamStart = 0;
    let streamEnd = 0;
    let symbolStart = 0;
    let symbolEnd = 0;
    let p = 0;
    // Columns found on the line; below 6 the row is truncated (e.g. the last line of a crash).
    let found = 1;
    fields: {
      if (cursor >= e) break fields;
      p = cursor + 1;
      found = 2;
      const ms = fieldUint(buf, p, e);
      if (ms === INVALID)
        this.badField(buf, p, 'bad binance_time', 'binance_time', 'is not a whole number of ms');
      else if (ms !== EMPTY) eventUs = ms * 1000;
      if (cursor >= e) break fields;
      p = cursor + 1;
      found = 3;
      const tokyo = fieldNs(buf, p, e);
      if (tokyo === INVALID)
        this.badField(buf, p, 'bad tokyo_time', 'tokyo_time', 'is not a whole number of ns');
      else if (tokyo !== EMPTY) {
        tokyoSec = nsSeconds;
        tokyoNs = nsNanos;
      }
      if (cursor >= e) break fields;
      p = cursor + 1;
      found = 4;
      const frankfurt = fieldNs(buf, p, e);
      if (frankfurt === INVALID) {
        this.badField(buf, p, 'bad frankfurt_time', 'frankfurt_time', 'is not a whole number of ns');
      } else if (frankfurt !== EMPTY) {
        if (this.epoch.second === undefined) this.epoch.second = nsSeconds;
        frankfurtSec = nsSeconds;
        frankfurtNs = nsNanos;
        arrival = (nsSeconds - this.epoch.second) * 1e9 + nsNanos;
      }
      if (cursor >= e) break fields;
      p = cursor + 1;
      found = 5;
      e2e = fieldDecimal(buf, p, e);
      if (e2e !== e2e && !fieldWasEmpty) {
        this.badField(buf, p, 'bad latency', 'end_to_end_latency_ms', 'is not a number');
      } else if (e2e < 0 || e2e > this.maxLatencyMs) this.implausible(e2e, 'end_to_end_latency_ms');
      if (cursor >= e) break fields;
      p = cursor + 1;
      found = 6;
      leg = fieldDecimal(buf, p, e);
      if (leg !== leg && !fieldWasEmpty) {
        this.badField(buf, p, 'bad latency', 'backbone_latency_ms', 'is not a number');
      } else if (leg < 0 || leg > this.maxLatencyMs) this.implausible(leg, 'backbone_latency_ms');

      // Our columns, wherever the header put them.
      for (let column = 6; cursor < e && column <= this.lastUsedCol; column++) {
        p = cursor + 1;
        found = column + 1;
        if (column === this.exchangeUsCol) {
          const us = fieldUint(buf, p, e);
          if (us === INVALID) {
            this.badField(buf, p, 'bad exchange_time_us', 'exchange_time_us', 'is not a whole number');
          } else if (us !== EMPTY) {
            eventUs = us;
            eventFromUs = true;
          }
        } else if (column === this.firstIdCol) {
          const id = fieldUint(buf, p, e);
          if (id === INVALID) {
            this.badField(buf, p, 'bad first_update_id', 'first_update_id', 'is not a whole number');
          } else if (id !== EMPTY) firstId = id;
        } else if (column === this.connectionCol) {
          const ordinal = fieldUint(buf, p, e);
          if (ordinal === INVALID) {
            this.badField(buf, p, 'bad connection', 'connection', 'is not a whole number');
          } else if (ordinal !== EMPTY) connection = ordinal;
        } else if (column === this.priceCol || column === this.quantityCol) {
          // Market context only, never a latency: a bad cell is noted, the row stays clean.
          const value = fieldDecimal(buf, p, e);
          const name = column === this.priceCol ? 'price' : 'quantity';
          if (value !== value && !fieldWasEmpty)
            this.note(`bad ${name}`, `${name} "${this.cellText(buf, p)}" is not a number`);
          else if (column === this.priceCol) price = value;
          else quantity = value;
        } else {
          skipField(buf, p, e);
          if (column === this.streamCol) {
            streamStart = p;
            streamEnd = cursor;
          } else if (column === this.symbolCol) {
            symbolStart = p;
            symbolEnd = cursor;
          }
        }
      }
    }
    if (found < 6) {
      // A file with a stream column needs it to tell which event the id is: without it, the row
      // gives no event. A seed-format file has one stream: the id alone is enough.
      if (this.streamCol >= 0) {
        return this.drop('too few columns', `${found} column(s), expected at least 6`);
      }
      this.flag('unreadable', 'too few columns', `${found} column(s), expected at least 6`);
    } else if (found <= this.streamCol) {
      return this.drop(
        'too few columns',
        `${found} column(s), the stream is in column ${this.streamCol + 1}`,
      );
    }
    const group = this.streams.groupOf(buf, streamStart, streamEnd, symbolStart, symbolEnd);
    const row = this.rows;
    if (this.rowFlag === ROW_OK && arrival === arrival) this.checkClock(arrival, row);
    // Asked again: checkClock may have flagged the row.
    if (this.rowFlag === ROW_OK && arrival === arrival) {
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

    this.rows++;
    this.flags.push(this.rowFlag);
    this.group.push(group);
    this.seq.push(seq);
    this.arrival.push(arrival);
    this.e2e.push(e2e);
    this.firstId.push(row, firstId);
    this.connection.push(row, connection);
    this.eventUs.push(row, eventUs);
    this.price.push(row, price);
    this.quantity.push(row, quantity);
    this.leg.push(row, leg);
    this.exFwd.push(
      row,
      tokyoSec === tokyoSec && eventUs === eventUs ? msSinceEvent(tokyoSec, tokyoNs, eventUs) : NaN,
    );
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
      this.flags.set(this.maxRow, ROW_FLAG['clock step back']);
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

  private implausible(value: number, column: string): void {
    this.flag(
      'non-physical',
      'implausible latency',
      value < 0
        ? `negative ${column} ${value}`
        : `absurd ${column} ${value} (more than ${this.maxLatencyMs} ms)`,
    );
  }
}

function concat(a: Buffer, b: Buffer): Buffer {
  return Buffer.concat([a, b], a.length + b.length);
}

/** Reads a whole CSV stream into columns. */
export async function readPathColumns(
  chunks: AsyncIterable<Uint8Array | string>,
  source: string,
  options: ReadOptions,
): Promise<PathColumns> {
  const reader = new PathCsvReader(source, options);
  for await (const chunk of chunks) {
    reader.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return reader.finish();
}
