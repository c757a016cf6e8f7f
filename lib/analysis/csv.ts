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
import { parseStreamName, type StreamKind } from '../binance';
import { SEED_COLUMNS } from '../samples';
import { F64Column, U16Column, U8Column } from './columns';
import { DataErrorLog, ROW_FLAG, ROW_OK, ROW_SUSPECT, type DataErrorKind } from './data-errors';

/** Latencies above this are rejected as absurd (a clock or unit error, not a network). */
export const DEFAULT_MAX_LATENCY_MS = 3_600_000;
/** How many problem rows are kept with their line for the report (all are counted). */
export const MAX_PROBLEMS_KEPT = 20;
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

/** The epoch second arrivals are stored relative to; shared by the paths of one analysis. */
export class ArrivalEpoch {
  second: number | undefined;
}

export interface RowProblem {
  line: number;
  message: string;
}

/** One stream of a path: rows with the same (stream kind, symbol) are the same events on both paths. */
export interface StreamGroup {
  /** Match key across paths: `<kind>:<symbol>` (or `?<stream>:<symbol>` for an unknown stream). */
  key: string;
  kind: StreamKind | undefined;
  /** True when the kind was assumed (no stream name in the file). */
  kindAssumed: boolean;
  symbol: string;
  /** Stream names seen for this key (e.g. `btcusdt@trade`; '' when the file has none). */
  streams: string[];
}

/** A path's rows as columns; NaN marks an empty (not applicable) value. */
export interface PathColumns {
  source: string;
  /** Rows with a readable sequence_id (clean or flagged): the events the path recorded. */
  rows: number;
  /** Rows without a readable sequence_id (or stream), left out of the columns. */
  skipped: number;
  problems: RowProblem[];
  /** Problem rows per detailed reason (e.g. 'bad latency'). */
  problemCounts: Record<string, number>;
  /** Per row: ROW_OK, a ROW_FLAG data-error code, or ROW_SUSPECT (data-errors.ts). */
  flags: Uint8Array;
  /** Data errors by kind, with their first lines. */
  dataErrors: DataErrorLog;
  /**
   * For each skipped unreadable line, the number of rows read before it (ascending): the line lies
   * between rows `at − 1` and `at` in file order.
   */
  unreadableAt: number[];
  /** The same for blank lines (only to give each row its line number). */
  blankAt: number[];
  /** Rows whose latency cells could be checked against their timestamps, and how many disagreed. */
  latencyChecked: number;
  latencySuspects: number;
  /** The epoch second `arrivalNs` is relative to (undefined without any frankfurt_time). */
  epochSecond: number | undefined;
  hasStreamColumn: boolean;
  groups: StreamGroup[];
  group: Uint16Array;
  seq: Float64Array;
  /** Depth only: first update id U (null when the file has none). */
  firstId: Float64Array | null;
  /**
   * The `connection` column: the ordinal of the exchange connection that delivered the row (NaN in
   * a row without one; null when no row has one, e.g. a file written before the column).
   */
  connection: Float64Array | null;
  /**
   * The exchange event time E per row, µs (exchange_time_us, else binance_time × 1000; NaN in a row
   * without one); null when no row has one. For the market context (market.ts).
   */
  eventUs: Float64Array | null;
  /** The `price` and `quantity` columns (trades; NaN elsewhere); null when no row has one. */
  price: Float64Array | null;
  quantity: Float64Array | null;
  /** Receiver arrival (frankfurt_time) in ns since `epoch.second`. */
  arrivalNs: Float64Array;
  /** end_to_end_latency_ms. */
  e2eMs: Float64Array;
  /** backbone_latency_ms: forwarder → receiver (null when the column is empty throughout). */
  legMs: Float64Array | null;
  /** tokyo_time − exchange event time E, in ms (null when no row has both). */
  exchangeToForwarderMs: Float64Array | null;
}

export interface ReadOptions {
  epoch: ArrivalEpoch;
  /** Stream kind of rows without a stream name; default {@link ASSUMED_KIND}. */
  defaultKind?: StreamKind;
  maxLatencyMs?: number;
}

const COMMA = 44;
const NEWLINE = 10;
const CR = 13;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const MAX_FIELDS = 64;
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

const EMPTY = -2;
const INVALID = -1;
// Results of the field parsers, kept in module scope so that a row allocates nothing: `cursor` is
// the index of the comma that ends the field (or the line's end).
let cursor = 0;
let nsSeconds = 0;
let nsNanos = 0;
let fieldWasEmpty = false;

/** A non-negative integer field from `p`: its value, EMPTY, or INVALID (not digits, or beyond 2⁵³). */
function fieldUint(buf: Buffer, p: number, e: number): number {
  let v = 0;
  let i = p;
  let bad = false;
  for (; i < e; i++) {
    const c = buf[i] as number;
    if (c === COMMA) break;
    if (c < ZERO || c > NINE) bad = true;
    else v = v * 10 + (c - ZERO);
  }
  cursor = i;
  if (bad) return INVALID;
  if (i === p) return EMPTY;
  return v <= Number.MAX_SAFE_INTEGER ? v : INVALID;
}

/** An integer ns timestamp field split into nsSeconds / nsNanos (last 9 digits): 0, EMPTY or INVALID. */
function fieldNs(buf: Buffer, p: number, e: number): number {
  let q = p;
  while (q < e && buf[q] !== COMMA) q++;
  cursor = q;
  if (q === p) return EMPTY;
  const split = q - 9 > p ? q - 9 : p;
  let hi = 0;
  for (let i = p; i < split; i++) {
    const c = buf[i] as number;
    if (c < ZERO || c > NINE) return INVALID;
    hi = hi * 10 + (c - ZERO);
  }
  let lo = 0;
  for (let i = split; i < q; i++) {
    const c = buf[i] as number;
    if (c < ZERO || c > NINE) return INVALID;
    lo = lo * 10 + (c - ZERO);
  }
  nsSeconds = hi;
  nsNanos = lo;
  return 0;
}

/** ms from an event time (µs since the Unix epoch) to a timestamp split as seconds + ns, exact to the ns. */
function msSinceEvent(seconds: number, nanos: number, eventUs: number): number {
  const eventSec = Math.floor(eventUs / 1e6);
  return ((seconds - eventSec) * 1e9 + (nanos - (eventUs - eventSec * 1e6) * 1000)) / 1e6;
}

function latin1(buf: Buffer, s: number, e: number): string {
  return buf.toString('latin1', s, e);
}

/**
 * A decimal field: its value, or NaN (with fieldWasEmpty telling empty from invalid). Digits are
 * gathered into one integer and divided once by a power of ten: both are exact, so the one
 * rounding gives the same double as `parseFloat`.
 */
function fieldDecimal(buf: Buffer, p: number, e: number): number {
  let i = p;
  let negative = false;
  if (i < e && buf[i] === MINUS) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let dot = false;
  let other = false;
  for (; i < e; i++) {
    const c = buf[i] as number;
    if (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      if (dot) scale++;
    } else if (c === COMMA) {
      break;
    } else if (c === DOT && !dot) {
      dot = true;
    } else {
      other = true;
    }
  }
  cursor = i;
  fieldWasEmpty = i === p;
  if (fieldWasEmpty) return NaN;
  if (other || digits > 15 || scale >= POW10.length) {
    // Exponents, long fractions, stray characters: the general (slower) path.
    const text = latin1(buf, p, i).trim();
    const value = text === '' ? NaN : Number(text);
    return Number.isFinite(value) ? value : NaN;
  }
  if (digits === 0) return NaN;
  const value = scale === 0 ? mantissa : mantissa / (POW10[scale] as number);
  return negative ? -value : value;
}

function sameBytes(buf: Buffer, s: number, e: number, ref: Uint8Array): boolean {
  if (e - s !== ref.length) return false;
  for (let i = 0; i < ref.length; i++) if (buf[s + i] !== ref[i]) return false;
  return true;
}

interface KnownName {
  stream: Uint8Array;
  symbol: Uint8Array;
  group: number;
}

/** Reads one path's CSV from a stream of buffers. */
export class PathCsvReader {
  private readonly epoch: ArrivalEpoch;
  private readonly defaultKind: StreamKind;
  private readonly maxLatencyMs: number;

  private leftover: Buffer | null = null;
  private line = 0;
  private headerSeen = false;
  private streamCol = -1;
  private symbolCol = -1;
  private exchangeUsCol = -1;
  private firstIdCol = -1;
  private connectionCol = -1;
  private priceCol = -1;
  private quantityCol = -1;
  private lastUsedCol = -1;

  private rows = 0;
  private skipped = 0;
  private readonly problems: RowProblem[] = [];
  private readonly problemCounts: Record<string, number> = {};
  private readonly dataErrors = new DataErrorLog();
  private readonly unreadableAt: number[] = [];
  private readonly blankAt: number[] = [];
  private latencyChecked = 0;
  private latencySuspects = 0;
  /** The current row's flag (one kind per row: the first problem found). */
  private rowFlag = ROW_OK;
  // Receiver time in file order: the highest clean arrival so far, the row that set it (and its
  // line), and the highest before it, to tell a lone jump forward from a step back.
  private maxArrival = -Infinity;
  private maxRow = -1;
  private maxRowLine = 0;
  private maxBefore = -Infinity;

  private readonly groups: StreamGroup[] = [];
  private readonly groupByKey = new Map<string, number>();
  private readonly groupByNames = new Map<string, number>();
  private readonly known: KnownName[] = [];
  private lastKnown: KnownName | undefined;

  private readonly flags = new U8Column();
  private readonly group = new U16Column();
  private readonly seq = new F64Column();
  private firstId: F64Column | null = null;
  private connection: F64Column | null = null;
  private eventUs: F64Column | null = null;
  private price: F64Column | null = null;
  private quantity: F64Column | null = null;
  private readonly arrival = new F64Column();
  private readonly e2e = new F64Column();
  private leg: F64Column | null = null;
  private exFwd: F64Column | null = null;

  constructor(
    readonly source: string,
    options: ReadOptions,
  ) {
    this.epoch = options.epoch;
    this.defaultKind = options.defaultKind ?? ASSUMED_KIND;
    this.maxLatencyMs = options.maxLatencyMs ?? DEFAULT_MAX_LATENCY_MS;
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
      groups: this.groups,
      group: this.group.finish(),
      seq: this.seq.finish(),
      firstId: this.firstId?.finish() ?? null,
      connection: this.connection?.finish() ?? null,
      eventUs: this.eventUs?.finish() ?? null,
      price: this.price?.finish() ?? null,
      quantity: this.quantity?.finish() ?? null,
      arrivalNs: this.arrival.finish(),
      e2eMs: this.e2e.finish(),
      legMs: this.leg?.finish() ?? null,
      exchangeToForwarderMs: this.exFwd?.finish() ?? null,
    };
  }

  private note(reason: string, detail: string, line = this.line): void {
    this.problemCounts[reason] = (this.problemCounts[reason] ?? 0) + 1;
    if (this.problems.length < MAX_PROBLEMS_KEPT) {
      this.problems.push({ line, message: `${this.source}:${line}: ${detail}` });
    }
  }

  /** The current row is a data error of `kind` (only its first problem counts). */
  private flag(kind: DataErrorKind, reason: string, detail: string): void {
    if (this.rowFlag !== ROW_OK) return;
    this.rowFlag = ROW_FLAG[kind];
    this.dataErrors.add(kind, this.line);
    this.note(reason, detail);
  }

  /** The current line gives no event (no readable id, or no stream in a file that has one). */
  private drop(reason: string, detail: string): void {
    this.skipped++;
    this.unreadableAt.push(this.rows);
    // A bad cell before the line ran out was counted already: one data error per line.
    if (this.rowFlag !== ROW_OK) return;
    this.dataErrors.add('unreadable', this.line);
    this.note(reason, detail);
  }

  private header(buf: Buffer, s: number, e: number): void {
    let text = Buffer.from(buf.subarray(s, e)).toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const names = text.split(',').map((name) => name.trim());
    const seedOk = SEED_COLUMNS.every((column, i) => names[i] === column);
    if (!seedOk) {
      const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
      const missing = SEED_COLUMNS.filter((column) => !names.includes(column));
      const why =
        missing.length > 0
          ? `missing column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`
          : 'the seed columns are in another order';
      throw new FeedpathError(
        ErrorCode.badResults,
        `${this.source}:${this.line}: header is not the seed's (${why}): expected it to start with "${SEED_COLUMNS.join(',')}", found "${shown}"`,
      );
    }
    if (names.length > MAX_FIELDS) {
      throw new FeedpathError(
        ErrorCode.badResults,
        `${this.source}:${this.line}: more than ${MAX_FIELDS} columns`,
      );
    }
    this.streamCol = names.indexOf('stream');
    this.symbolCol = names.indexOf('symbol');
    this.exchangeUsCol = names.indexOf('exchange_time_us');
    this.firstIdCol = names.indexOf('first_update_id');
    this.connectionCol = names.indexOf('connection');
    this.priceCol = names.indexOf('price');
    this.quantityCol = names.indexOf('quantity');
    this.lastUsedCol = Math.max(
      this.streamCol,
      this.symbolCol,
      this.exchangeUsCol,
      this.firstIdCol,
      this.connectionCol,
      this.priceCol,
      this.quantityCol,
    );
    this.headerSeen = true;
  }

  private groupOf(buf: Buffer, ss: number, se: number, ys: number, ye: number): number {
    const last = this.lastKnown;
    if (last !== undefined && sameBytes(buf, ss, se, last.stream) && sameBytes(buf, ys, ye, last.symbol)) {
      return last.group;
    }
    for (const entry of this.known) {
      if (sameBytes(buf, ss, se, entry.stream) && sameBytes(buf, ys, ye, entry.symbol)) {
        this.lastKnown = entry;
        return entry.group;
      }
    }
    const stream = Buffer.from(buf.subarray(ss, se)).toString('utf8').trim();
    const symbolField = Buffer.from(buf.subarray(ys, ye)).toString('utf8').trim().toLowerCase();
    const names = `${stream}\n${symbolField}`;
    let id = this.groupByNames.get(names);
    if (id === undefined) {
      id = this.resolveGroup(stream, symbolField);
      this.groupByNames.set(names, id);
    }
    if (this.known.length < 256) {
      const entry = {
        stream: new Uint8Array(buf.subarray(ss, se)),
        symbol: new Uint8Array(buf.subarray(ys, ye)),
        group: id,
      };
      this.known.push(entry);
      this.lastKnown = entry;
    }
    return id;
  }

  private resolveGroup(stream: string, symbolField: string): number {
    let kind: StreamKind | undefined;
    let kindAssumed = false;
    let symbol = symbolField;
    let key: string;
    if (stream === '') {
      kind = this.defaultKind;
      kindAssumed = true;
      key = `${kind}:${symbol}`;
    } else {
      try {
        const parsed = parseStreamName(stream);
        kind = parsed.kind;
        if (symbol === '') symbol = parsed.symbol;
        key = `${kind}:${symbol}`;
      } catch {
        key = `?${stream}:${symbol}`;
      }
    }
    let id = this.groupByKey.get(key);
    if (id === undefined) {
      if (this.groups.length >= 0xffff) {
        throw new FeedpathError(ErrorCode.badResults, `${this.source}: more than 65535 distinct streams`);
      }
      id = this.groups.length;
      this.groups.push({ key, kind, kindAssumed, symbol, streams: [] });
      this.groupByKey.set(key, id);
    }
    const group = this.groups[id] as StreamGroup;
    if (!group.streams.includes(stream)) group.streams.push(stream);
    return id;
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
          let q = p;
          while (q < e && buf[q] !== COMMA) q++;
          cursor = q;
          if (column === this.streamCol) {
            streamStart = p;
            streamEnd = q;
          } else if (column === this.symbolCol) {
            symbolStart = p;
            symbolEnd = q;
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
    const group = this.groupOf(buf, streamStart, streamEnd, symbolStart, symbolEnd);
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
    if (firstId === firstId) {
      if (this.firstId === null) this.firstId = F64Column.filled(row);
      this.firstId.push(firstId);
    } else if (this.firstId !== null) this.firstId.push(NaN);
    if (connection === connection) {
      if (this.connection === null) this.connection = F64Column.filled(row);
      this.connection.push(connection);
    } else if (this.connection !== null) this.connection.push(NaN);
    if (eventUs === eventUs) {
      if (this.eventUs === null) this.eventUs = F64Column.filled(row);
      this.eventUs.push(eventUs);
    } else if (this.eventUs !== null) this.eventUs.push(NaN);
    if (price === price) {
      if (this.price === null) this.price = F64Column.filled(row);
      this.price.push(price);
    } else if (this.price !== null) this.price.push(NaN);
    if (quantity === quantity) {
      if (this.quantity === null) this.quantity = F64Column.filled(row);
      this.quantity.push(quantity);
    } else if (this.quantity !== null) this.quantity.push(NaN);
    if (leg === leg) {
      if (this.leg === null) this.leg = F64Column.filled(row);
      this.leg.push(leg);
    } else if (this.leg !== null) this.leg.push(NaN);
    if (tokyoSec === tokyoSec && eventUs === eventUs) {
      if (this.exFwd === null) this.exFwd = F64Column.filled(row);
      this.exFwd.push(msSinceEvent(tokyoSec, tokyoNs, eventUs));
    } else if (this.exFwd !== null) this.exFwd.push(NaN);
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

  private cellText(buf: Buffer, p: number): string {
    let q = p;
    while (q < buf.length && buf[q] !== COMMA && buf[q] !== NEWLINE && buf[q] !== CR) q++;
    return latin1(buf, p, Math.min(q, p + 40));
  }

  private badField(buf: Buffer, p: number, reason: string, column: string, problem: string): void {
    this.flag('unreadable', reason, `${column} "${this.cellText(buf, p)}" ${problem}`);
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
