/**
 * One data row of a results CSV: its cells read straight from the stream's buffer (csv-fields.ts),
 * each checked as it is read, the row's times checked (csv-row-checks.ts), its values stored
 * (csv-row-columns.ts). Timestamps in ns since the epoch have 19 digits, beyond a double's 2⁵³, so
 * they are split into seconds and nanoseconds and arrivals stored relative to one epoch second
 * shared by both paths: every arrival and difference of arrivals is then an exact integer number
 * of ns in a double (for runs < 104 days).
 *
 * A row with a problem is a data error (data-errors.ts), counted with its kind and line: a row whose
 * sequence_id can be read is kept with a flag (its event was recorded: neither lost nor unmatched,
 * but in no statistic); a row without a readable id is skipped, and its place in the file is kept so
 * that a gap in the ids it explains is not counted as loss.
 */
import type { StreamKind } from '../binance';
import {
  cursor,
  EMPTY,
  fieldDecimal,
  fieldNs,
  fieldUint,
  fieldWasEmpty,
  INVALID,
  msSinceEvent,
  nsNanos,
  nsSeconds,
  skipField,
} from './csv-fields';
import { readHeader } from './csv-header';
import { RowChecks } from './csv-row-checks';
import { ROW_OK } from './data-errors';
import type { ArrivalEpoch, ReadOptions } from './path-columns';
import { StreamGroups } from './stream-groups';

/**
 * Kind assumed for rows without a stream name (seed-format CSVs from another tool): the seed
 * experiment's `sequence_id` is a contiguous exchange id, so gaps are read as trade-id gaps unless
 * the caller (or the run's input.json) says which stream kind the file holds.
 */
export const ASSUMED_KIND: StreamKind = 'trade';

/** Reads the rows of one file, once its header said where our columns are; the file reader extends it. */
export class RowReader extends RowChecks {
  protected readonly epoch: ArrivalEpoch;
  protected readonly streams: StreamGroups;

  // Where the header put our columns (-1: absent), and the last one read.
  protected streamCol = -1;
  private symbolCol = -1;
  private exchangeUsCol = -1;
  private firstIdCol = -1;
  private connectionCol = -1;
  private priceCol = -1;
  private quantityCol = -1;
  private lastUsedCol = -1;
  private readonly market: boolean;

  constructor(source: string, options: ReadOptions) {
    super(source, options.maxLatencyMs);
    this.market = options.market ?? true;
    this.epoch = options.epoch;
    this.streams = new StreamGroups(source, options.defaultKind ?? ASSUMED_KIND);
  }

  /** The header line (the current line): throws FP_BAD_RESULTS when it is not the seed's. */
  protected header(buf: Buffer, s: number, e: number): void {
    const columns = readHeader(buf, s, e, `${this.source}:${this.line}`);
    this.streamCol = columns.stream;
    this.symbolCol = columns.symbol;
    this.exchangeUsCol = columns.exchangeUs;
    this.firstIdCol = columns.firstId;
    this.connectionCol = columns.connection;
    // Without the market, price and quantity cells are skipped unread.
    this.priceCol = this.market ? columns.price : -1;
    this.quantityCol = this.market ? columns.quantity : -1;
    this.lastUsedCol = columns.lastUsed;
  }

  /** The current line, `buf[s, e)`, not blank and without its line end. */
  protected readRow(buf: Buffer, s: number, e: number): void {
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
    if (this.rowFlag === ROW_OK && arrival === arrival) {
      this.checkTimes(
        row,
        arrival,
        frankfurtSec,
        frankfurtNs,
        e2e,
        eventUs,
        eventFromUs,
        leg,
        tokyoSec,
        tokyoNs,
      );
    }

    this.rows++;
    const columns = this.columns;
    columns.flags.push(this.rowFlag);
    columns.group.push(group);
    columns.seq.push(seq);
    columns.arrival.push(arrival);
    columns.e2e.push(e2e);
    columns.firstId.push(row, firstId);
    columns.connection.push(row, connection >= 1 && connection <= 65535 ? connection : 0);
    columns.eventUs.push(row, this.market ? eventUs : NaN);
    columns.price.push(row, price);
    columns.quantity.push(row, quantity);
    columns.leg.push(row, leg);
    columns.exFwd.push(
      row,
      tokyoSec === tokyoSec && eventUs === eventUs ? msSinceEvent(tokyoSec, tokyoNs, eventUs) : NaN,
    );
  }
}
