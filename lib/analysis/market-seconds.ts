/**
 * The market context counted from one path's rows, second by second and stream by stream (the
 * definitions are in market.ts): per-second events, trades, volume, bursts and prices, the run's
 * totals and busiest seconds, and per row the state bits the latency split reads (market-state.ts).
 */
import type { PathColumns, StreamGroup } from './path-columns';
import { percentileSorted } from '../stats';
import { ROW_FLAG } from './data-errors';
import type { PathName } from '../samples';
import {
  BUSIEST_LISTED,
  BUSY_SHARE,
  IN_BURST,
  IN_BUSY_SECOND,
  MARKET_DEFINITIONS,
  MAX_TABLE_ROWS,
  type MarketBurst,
  type MarketContext,
  type MarketSecond,
  type MarketStream,
  type PathMarket,
} from './market';

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
  // Every second of the span, quiet ones (no event: 0) first, for the percentiles.
  const perSecond = new Float64Array(span);
  perSecond.set(counts, zeros);
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
            median: percentileSorted(perSecond, 50),
            p90: percentileSorted(perSecond, 90),
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
