/**
 * The market context of a run, from the events it recorded: what the market was doing while the
 * latency was measured, so a slow network can be told from a busy market and two runs taken in
 * different conditions can be compared. Everything is placed by the exchange's event time E and
 * counted by the exchange's ids (no extra connection): per second and per stream the events, trades
 * and traded volume, the largest burst, the price range and change; for the run the totals, the
 * busiest seconds and the share of events that came in bursts. Then the latency by market state:
 * each path's and the paired delta's median and p99 in bursts vs single events and in the busiest
 * 10% of seconds vs the rest.
 *
 * Definitions (README "Market context"):
 * - an event is a distinct (stream, id) with an exchange time E (a duplicate row counts once; spot
 *   bookTicker has no E and is counted apart, as `events_without_time`);
 * - a burst is two or more events of one stream with the same exchange millisecond (one matching
 *   sweep, one depth flush); its size is the number of events; an event is "in a burst" when its
 *   millisecond holds a burst;
 * - a second is the E second (UTC); events per second are taken over every second from the first
 *   event's to the last one's, quiet seconds counting as 0;
 * - the busiest 10% of seconds are those with at least the threshold's events, the threshold being
 *   the smallest count among the ⌈10%⌉ busiest seconds (at least 1): seconds tied at it count too;
 * - trades and volume are the events and the summed quantity `q` of trade and aggTrade streams (an
 *   aggTrade event counts as one trade); the price is the trade price `p`: low, high, and the change
 *   from the first trade of the second (or run) to its last, in id order.
 *
 * The market is one, whichever path saw it: it is computed from the baseline's rows (the receiver's
 * own connection to the exchange), else the backbone's; an event that path lost is missing from the
 * counts (`events_lost` says how many).
 */
import type { Evidence } from './evidence';
import type { PathName } from '../samples';

/** A state bit per row: the event is in a burst. */
export const IN_BURST = 1;
/** A state bit per row: the event's second is among the busiest 10%. */
export const IN_BUSY_SECOND = 2;
/** Share of seconds that are "the busiest". */
export const BUSY_SHARE = 0.1;
/** Seconds listed as the run's busiest. */
export const BUSIEST_LISTED = 5;
/**
 * The per-second table keeps at most this many rows per stream: a longer run's rows are buckets of
 * several seconds (`bucket_seconds`), so report.json stays small for a day-long run. The run's
 * figures (events per second, bursts, threshold) are always taken over true seconds.
 */
export const MAX_TABLE_ROWS = 3600;

export const MARKET_DEFINITIONS =
  'Placed by the exchange event time E. An event is a distinct (stream, id) with an E; a burst is 2 or more events of one stream in the same exchange millisecond; events per second are taken over every E second from the first event to the last (quiet seconds count as 0); the busiest 10% of seconds are those with at least the threshold’s events (the smallest count among the ⌈10%⌉ busiest seconds, ties included); trades and volume are the events and summed quantity of trade/aggTrade streams; the price change runs from the second’s (or run’s) first trade to its last, in id order.';

/** One stream in one second (or bucket of seconds). */
export interface MarketSecond {
  /** Start of the second, Unix seconds (UTC). */
  second: number;
  stream: string;
  events: number;
  /** Null for a stream without trades (depth, bookTicker). */
  trades: number | null;
  volume: number | null;
  /** Events of the largest burst in the second (1: no burst). */
  largest_burst: number;
  price_low: number | null;
  price_high: number | null;
  /** Last trade price − first, in the second. */
  price_change: number | null;
}

export interface MarketStream {
  stream: string;
  events: number;
  events_without_time: number;
  trades: number | null;
  volume: number | null;
  largest_burst: number;
  /** Share of the stream's events that were in a burst. */
  burst_share: number | null;
  price_low: number | null;
  price_high: number | null;
  price_first: number | null;
  price_last: number | null;
  price_change: number | null;
}

export interface MarketBurst {
  events: number;
  stream: string;
  /** The exchange millisecond, ISO. */
  at: string;
}

/** Median and p99 of one series in one market state, each with its 95% interval. */
export interface StateFigures {
  median_ms: number | null;
  median_ci_ms: { low: number; high: number } | null;
  p99_ms: number | null;
  p99_ci_ms: { low: number; high: number } | null;
}

export interface MarketStateRow {
  state: 'burst' | 'single' | 'busy' | 'rest';
  /** Matched events in the state, and their share of the matched events. */
  events: number;
  share: number | null;
  evidence: Evidence;
  baseline: StateFigures;
  backbone: StateFigures;
  /** backbone − baseline arrival, ms (negative: backbone first). */
  delta: StateFigures;
}

export interface LatencyByMarketState {
  /** burst, single, busy, rest, in that order; a state without matched events is left out. */
  states: MarketStateRow[];
  /** The split whose median delta changed with the state (intervals apart), for the verdict. */
  changes: { split: 'bursts' | 'busy seconds'; state: string; other: string }[];
  rule: string;
  interval: string;
}

export interface MarketContext {
  /** Whose rows the market was counted from. */
  source: PathName;
  /**
   * A replayed run: the capture its events were placed by (their original E, price and quantity) and
   * the replay's speed; its seconds are the capture's, `speed` times longer than the run's.
   */
  replay: { file: string; speed: number } | null;
  /** Events that path lost (the other path may have seen them): missing from these counts. */
  events_lost: number | null;
  events: number;
  events_without_time: number;
  first_second: string | null;
  last_second: string | null;
  /** Seconds from the first event's to the last one's, both included. */
  seconds: number;
  events_per_second: { median: number; p90: number; max: number } | null;
  busy_threshold_events_per_s: number | null;
  busy_seconds: number;
  bursts: number;
  /** Share of the events that were in a burst. */
  burst_share: number | null;
  largest_burst: MarketBurst | null;
  busiest_seconds: { second: string; events: number }[];
  trades: number | null;
  volume: number | null;
  streams: MarketStream[];
  bucket_seconds: number;
  per_second: MarketSecond[];
  /** Null until the paired analysis adds it (and without a paired delta). */
  by_state: LatencyByMarketState | null;
  definitions: string;
}

/** A path's market: the context, and per row the state bits for the latency split. */
export interface PathMarket {
  context: MarketContext;
  /** Per row: {@link IN_BURST} | {@link IN_BUSY_SECOND}; 0 for a row without E or a duplicate. */
  rowState: Uint8Array;
}
