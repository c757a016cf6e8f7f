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
import { forEachMatch } from './paired';
import type { PathKeys } from './path';
import type { PathColumns, StreamGroup } from './csv';
import { ROW_FLAG } from './data-errors';
import { assessEvidence, type Evidence } from './evidence';
import type { PathName } from '../samples';
import {
  blockQuantileCI,
  INTERVAL_METHOD,
  receiveTimeBlocks,
  sortValues,
  type BlockInterval,
} from '../stats';
import { ms } from '../report/format';

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

interface SecondAcc {
  second: number;
  group: number;
  events: number;
  trades: number;
  volume: number;
  largest: number;
  low: number;
  high: number;
  first: number;
  last: number;
}

function streamName(group: StreamGroup): string {
  return group.streams.find((s) => s !== '') ?? group.key;
}

function isTradeKind(group: StreamGroup): boolean {
  return group.kind === 'trade' || group.kind === 'aggTrade';
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** The p-th percentile (linear, as describe.ts) of `zeros` zeros followed by `sorted` (ascending). */
function percentileWithZeros(sorted: number[], zeros: number, p: number): number {
  const n = sorted.length + zeros;
  const at = (i: number): number => (i < zeros ? 0 : (sorted[i - zeros] as number));
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  if (lo >= n - 1) return at(n - 1);
  return at(lo) + (h - lo) * (at(lo + 1) - at(lo));
}

/**
 * The market context of one path's rows (before its latency columns are dropped); null when no row
 * has an exchange time. `orders` are the rows per stream in id order (lib/analysis/order.ts).
 */
export function computeMarket(
  path: PathName,
  columns: PathColumns,
  orders: readonly Uint32Array[],
  eventsLost: number | null,
  replay: { file: string; speed: number } | null = null,
): PathMarket | null {
  const eventUs = columns.eventUs;
  if (eventUs === null) return null;
  const { flags, groups } = columns;
  const price = columns.price;
  const quantity = columns.quantity;
  const rowState = new Uint8Array(flags.length);
  const seconds = new Map<number, SecondAcc>();
  const streams: MarketStream[] = [];
  const duplicate = ROW_FLAG.duplicate;
  let events = 0;
  let withoutTime = 0;
  let inBursts = 0;
  let bursts = 0;
  let largest: MarketBurst | null = null;
  let firstSecond = Infinity;
  let lastSecond = -Infinity;

  groups.forEach((group, g) => {
    const order = orders[g] as Uint32Array;
    const trades = isTradeKind(group);
    const name = streamName(group);
    const stream: MarketStream = {
      stream: name,
      events: 0,
      events_without_time: 0,
      trades: trades ? 0 : null,
      volume: trades ? 0 : null,
      largest_burst: 0,
      burst_share: null,
      price_low: null,
      price_high: null,
      price_first: null,
      price_last: null,
      price_change: null,
    };
    let streamBurstEvents = 0;
    let acc: SecondAcc | undefined;
    // Rows in id order; within one stream E does not go back, so a millisecond's events are adjacent.
    let k = 0;
    while (k < order.length) {
      const row = order[k] as number;
      const us = eventUs[row] as number;
      if (flags[row] === duplicate || us !== us) {
        if (flags[row] !== duplicate) stream.events_without_time++;
        k++;
        continue;
      }
      const milli = Math.floor(us / 1000);
      let end = k + 1;
      let size = 1;
      while (end < order.length) {
        const next = order[end] as number;
        const nextUs = eventUs[next] as number;
        if (flags[next] === duplicate) {
          end++;
          continue;
        }
        if (nextUs !== nextUs || Math.floor(nextUs / 1000) !== milli) break;
        size++;
        end++;
      }
      const second = Math.floor(milli / 1000);
      if (acc === undefined || acc.second !== second) {
        const key = second * 65536 + g;
        acc = seconds.get(key);
        if (acc === undefined) {
          acc = {
            second,
            group: g,
            events: 0,
            trades: 0,
            volume: 0,
            largest: 0,
            low: Infinity,
            high: -Infinity,
            first: NaN,
            last: NaN,
          };
          seconds.set(key, acc);
        }
      }
      if (second < firstSecond) firstSecond = second;
      if (second > lastSecond) lastSecond = second;
      acc.events += size;
      if (size > acc.largest) acc.largest = size;
      if (size > stream.largest_burst) stream.largest_burst = size;
      if (size >= 2) {
        bursts++;
        inBursts += size;
        streamBurstEvents += size;
        if (largest === null || size > largest.events)
          largest = { events: size, stream: name, at: new Date(milli).toISOString() };
      }
      for (let i = k; i < end; i++) {
        const r = order[i] as number;
        if (flags[r] === duplicate) continue;
        if (size >= 2) rowState[r] = IN_BURST;
        if (!trades) continue;
        acc.trades++;
        const q = quantity === null ? NaN : (quantity[r] as number);
        if (q === q) {
          acc.volume += q;
          stream.volume = (stream.volume ?? 0) + q;
        }
        const p = price === null ? NaN : (price[r] as number);
        if (p === p) {
          if (p < acc.low) acc.low = p;
          if (p > acc.high) acc.high = p;
          if (acc.first !== acc.first) acc.first = p;
          acc.last = p;
          if (stream.price_first === null) stream.price_first = p;
          stream.price_last = p;
          stream.price_low = stream.price_low === null ? p : Math.min(stream.price_low, p);
          stream.price_high = stream.price_high === null ? p : Math.max(stream.price_high, p);
        }
      }
      stream.events += size;
      events += size;
      k = end;
    }
    if (trades) stream.trades = stream.events;
    withoutTime += stream.events_without_time;
    if (stream.events > 0) stream.burst_share = streamBurstEvents / stream.events;
    if (stream.price_first !== null && stream.price_last !== null)
      stream.price_change = stream.price_last - stream.price_first;
    streams.push(stream);
  });

  // Events per second over all streams, quiet seconds included; the busiest seconds' threshold.
  const totals = new Map<number, number>();
  for (const acc of seconds.values()) totals.set(acc.second, (totals.get(acc.second) ?? 0) + acc.events);
  const span = events === 0 ? 0 : lastSecond - firstSecond + 1;
  const counts = [...totals.values()].sort((a, b) => a - b);
  const zeros = span - counts.length;
  let threshold: number | null = null;
  let busySeconds = 0;
  if (span > 0) {
    const busiest = Math.ceil(BUSY_SHARE * span);
    // The count of the ⌈10%⌉-th busiest second (from the top of `zeros` zeros then `counts`).
    const rank = span - busiest;
    threshold = Math.max(1, rank < zeros ? 0 : (counts[rank - zeros] as number));
    for (const c of counts) if (c >= threshold) busySeconds++;
    for (let row = 0; row < rowState.length; row++) {
      const us = eventUs[row] as number;
      if (us !== us || flags[row] === duplicate) continue;
      if ((totals.get(Math.floor(us / 1e6)) ?? 0) >= threshold)
        rowState[row] = (rowState[row] as number) | IN_BUSY_SECOND;
    }
  }
  const busiestSeconds = [...totals.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, BUSIEST_LISTED)
    .map(([second, n]) => ({ second: new Date(second * 1000).toISOString(), events: n }));

  const tradeStreams = streams.filter((s) => s.trades !== null);
  const context: MarketContext = {
    source: path,
    replay: replay === null ? null : { file: replay.file, speed: replay.speed },
    events_lost: eventsLost,
    events,
    events_without_time: withoutTime,
    first_second: span > 0 ? new Date(firstSecond * 1000).toISOString() : null,
    last_second: span > 0 ? new Date(lastSecond * 1000).toISOString() : null,
    seconds: span,
    events_per_second:
      span > 0
        ? {
            median: percentileWithZeros(counts, zeros, 50),
            p90: percentileWithZeros(counts, zeros, 90),
            max: counts[counts.length - 1] as number,
          }
        : null,
    busy_threshold_events_per_s: threshold,
    busy_seconds: busySeconds,
    bursts,
    burst_share: events > 0 ? inBursts / events : null,
    largest_burst: largest,
    busiest_seconds: busiestSeconds,
    trades: tradeStreams.length === 0 ? null : tradeStreams.reduce((n, s) => n + (s.trades ?? 0), 0),
    volume: tradeStreams.length === 0 ? null : tradeStreams.reduce((n, s) => n + (s.volume ?? 0), 0),
    streams,
    ...perSecondTable(seconds, groups, span),
    by_state: null,
    definitions: MARKET_DEFINITIONS,
  };
  return { context, rowState };
}

/** The per-second rows, in buckets of several seconds when the run is longer than the table. */
function perSecondTable(
  seconds: Map<number, SecondAcc>,
  groups: readonly StreamGroup[],
  span: number,
): { bucket_seconds: number; per_second: MarketSecond[] } {
  const bucket = Math.max(1, Math.ceil(span / MAX_TABLE_ROWS));
  const merged = new Map<number, SecondAcc>();
  const sorted = [...seconds.values()].sort((a, b) => a.group - b.group || a.second - b.second);
  for (const acc of sorted) {
    const start = Math.floor(acc.second / bucket) * bucket;
    const key = start * 65536 + acc.group;
    const into = merged.get(key);
    if (into === undefined) {
      merged.set(key, { ...acc, second: start });
      continue;
    }
    into.events += acc.events;
    into.trades += acc.trades;
    into.volume += acc.volume;
    into.largest = Math.max(into.largest, acc.largest);
    into.low = Math.min(into.low, acc.low);
    into.high = Math.max(into.high, acc.high);
    if (into.first !== into.first) into.first = acc.first;
    if (acc.last === acc.last) into.last = acc.last;
  }
  const per_second = [...merged.values()]
    .sort((a, b) => a.second - b.second || a.group - b.group)
    .map((acc): MarketSecond => {
      const group = groups[acc.group] as StreamGroup;
      const trades = isTradeKind(group);
      return {
        second: acc.second,
        stream: streamName(group),
        events: acc.events,
        trades: trades ? acc.trades : null,
        volume: trades ? acc.volume : null,
        largest_burst: acc.largest,
        price_low: finiteOrNull(acc.low),
        price_high: finiteOrNull(acc.high),
        price_change: acc.first === acc.first && acc.last === acc.last ? acc.last - acc.first : null,
      };
    });
  return { bucket_seconds: bucket, per_second };
}

// ——— latency by market state ———

export const MARKET_STATE_RULE =
  'The backbone’s advantage changes with the market state when, in bursts vs single events or in the busiest 10% of seconds vs the rest, both states have enough matched events for a verdict (100 events over 5 s) and the 95% intervals of their median deltas do not overlap.';

const STATE_NAMES = {
  burst: 'bursts',
  single: 'single events',
  busy: 'the busiest 10% of seconds',
  rest: 'the other seconds',
} as const;

function figures(values: Float64Array, times: Float64Array): StateFigures {
  const blocks = receiveTimeBlocks(times);
  const sorted = sortValues(values.slice());
  const pick = (ci: BlockInterval | null) => (ci === null ? null : { low: ci.low, high: ci.high });
  const quantile = (p: number): number | null => {
    if (sorted.length === 0) return null;
    const h = (sorted.length - 1) * p;
    const lo = Math.floor(h);
    const a = sorted[lo] as number;
    return lo >= sorted.length - 1 ? a : a + (h - lo) * ((sorted[lo + 1] as number) - a);
  };
  return {
    median_ms: quantile(0.5),
    median_ci_ms: pick(blockQuantileCI(sorted, values, blocks, 0.5)),
    p99_ms: quantile(0.99),
    p99_ci_ms: pick(blockQuantileCI(sorted, values, blocks, 0.99)),
  };
}

/**
 * Each path's latency and the paired delta in each market state, over the matched events: the
 * state of an event is its row's in the market's source path (`state`), the baseline's latency is
 * its row's, the backbone's is the baseline's plus the delta (same E, same receiver clock).
 */
export function latencyByMarketState(
  baseline: PathKeys,
  backbone: PathKeys,
  state: { source: PathName; rowState: Uint8Array },
): LatencyByMarketState | null {
  const latency = baseline.latencyMs;
  const capacity = Math.min(baseline.seq.length, backbone.seq.length);
  const times = new Float64Array(capacity);
  const deltas = new Float64Array(capacity);
  const baseLatency = new Float64Array(capacity);
  const bits = new Uint8Array(capacity);
  let n = 0;
  forEachMatch(baseline, backbone, (rowA, rowB) => {
    const a = baseline.arrivalNs[rowA] as number;
    const b = backbone.arrivalNs[rowB] as number;
    if (a !== a || b !== b) return;
    times[n] = a;
    deltas[n] = (b - a) / 1e6;
    baseLatency[n] = latency === null ? NaN : (latency[rowA] as number);
    bits[n] = state.rowState[state.source === 'baseline' ? rowA : rowB] as number;
    n++;
  });
  if (n === 0) return null;
  const select = (name: MarketStateRow['state'], test: (b: number) => boolean): MarketStateRow | null => {
    let m = 0;
    for (let i = 0; i < n; i++) if (test(bits[i] as number)) m++;
    if (m === 0) return null;
    const t = new Float64Array(m);
    const d = new Float64Array(m);
    let withLatency = 0;
    for (let i = 0, j = 0; i < n; i++) {
      if (!test(bits[i] as number)) continue;
      t[j] = times[i] as number;
      d[j] = deltas[i] as number;
      if ((baseLatency[i] as number) === (baseLatency[i] as number)) withLatency++;
      j++;
    }
    // One-way latencies over the events that have one (bookTicker has no E).
    const lt = new Float64Array(withLatency);
    const la = new Float64Array(withLatency);
    const lb = new Float64Array(withLatency);
    for (let i = 0, j = 0; i < n; i++) {
      const l = baseLatency[i] as number;
      if (!test(bits[i] as number) || l !== l) continue;
      lt[j] = times[i] as number;
      la[j] = l;
      lb[j] = l + (deltas[i] as number);
      j++;
    }
    let first = Infinity;
    let last = -Infinity;
    for (const x of t) {
      if (x < first) first = x;
      if (x > last) last = x;
    }
    return {
      state: name,
      events: m,
      share: m / n,
      evidence: assessEvidence(m, (last - first) / 1e9),
      baseline: figures(la, lt),
      backbone: figures(lb, lt),
      delta: figures(d, t),
    };
  };
  const rows: MarketStateRow[] = [];
  const add = (name: MarketStateRow['state'], test: (b: number) => boolean): MarketStateRow | null => {
    const row = select(name, test);
    if (row !== null) rows.push(row);
    return row;
  };
  const burst = add('burst', (b) => (b & IN_BURST) !== 0);
  const single = add('single', (b) => (b & IN_BURST) === 0);
  const busy = add('busy', (b) => (b & IN_BUSY_SECOND) !== 0);
  const rest = add('rest', (b) => (b & IN_BUSY_SECOND) === 0);
  const changes: LatencyByMarketState['changes'] = [];
  if (apart(burst, single)) changes.push({ split: 'bursts', state: 'burst', other: 'single' });
  if (apart(busy, rest)) changes.push({ split: 'busy seconds', state: 'busy', other: 'rest' });
  return { states: rows, changes, rule: MARKET_STATE_RULE, interval: INTERVAL_METHOD };
}

/** Both states rest on enough data and their median deltas' intervals do not overlap. */
function apart(a: MarketStateRow | null, b: MarketStateRow | null): boolean {
  if (a === null || b === null || !a.evidence.sufficient || !b.evidence.sufficient) return false;
  const x = a.delta.median_ci_ms;
  const y = b.delta.median_ci_ms;
  if (x === null || y === null) return false;
  return x.high < y.low || y.high < x.low;
}

/** "the backbone's lead grows to 3.20 ms in bursts, from 1.10 ms in single events" for one change. */
function changePhrase(state: MarketStateRow, other: MarketStateRow): string {
  const a = state.delta.median_ms as number;
  const b = other.delta.median_ms as number;
  const where = STATE_NAMES[state.state];
  const elsewhere = STATE_NAMES[other.state];
  const lead = (d: number) => ms(Math.abs(d));
  if (a < 0 && b < 0)
    return `the backbone’s lead ${-a > -b ? 'grows' : 'shrinks'} to ${lead(a)} ms in ${where}, from ${lead(b)} ms in ${elsewhere}`;
  if (a > 0 && b > 0)
    return `the baseline’s lead ${a > b ? 'grows' : 'shrinks'} to ${lead(a)} ms in ${where}, from ${lead(b)} ms in ${elsewhere}`;
  const side = (d: number) =>
    d < 0
      ? `the backbone leads by ${lead(d)} ms`
      : d > 0
        ? `the baseline leads by ${lead(d)} ms`
        : 'the paths tie';
  return `in ${where} ${side(a)}, in ${elsewhere} ${side(b)}`;
}

/**
 * The verdict's clause when the backbone's advantage changes with the market state
 * ({@link MARKET_STATE_RULE}), else null.
 */
export function marketStateClause(report: { market?: MarketContext | null }): string | null {
  const byState = report.market?.by_state;
  if (byState === null || byState === undefined || byState.changes.length === 0) return null;
  const phrases = byState.changes.flatMap((change) => {
    const state = byState.states.find((s) => s.state === change.state);
    const other = byState.states.find((s) => s.state === change.other);
    return state && other && state.delta.median_ms !== null && other.delta.median_ms !== null
      ? [changePhrase(state, other)]
      : [];
  });
  return phrases.length === 0 ? null : `${phrases.join('; ')} (median deltas, their 95% intervals apart)`;
}
