/**
 * A path's rows as read from its results CSV (csv.ts): typed columns, the streams they belong to,
 * and the problems met on the way. The statistics (path.ts), the pairing (paired.ts) and the market
 * context (market-seconds.ts) read these columns; only csv.ts writes them.
 */
import type { StreamKind } from '../binance';
import type { DataErrorLog } from './data-errors';

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
   * The `connection` column: the ordinal of the exchange connection that delivered the row (0 in a
   * row without one, and for an ordinal beyond 65,535, which no run reaches: Binance allows 300
   * connection attempts per 5 minutes); null when no row has one (e.g. a file written before it).
   */
  connection: Uint16Array | null;
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
  /**
   * Keep the market's columns (E, price, quantity; market.ts); default true. The analysis takes the
   * market from one path, so the other skips them: three float columns of its largest file.
   */
  market?: boolean;
}
