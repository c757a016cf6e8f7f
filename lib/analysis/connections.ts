/**
 * The paired delta by connection pair. Each path reaches the exchange through one connection at a
 * time (the receiver's own for baseline rows, the forwarder's upstream one for backbone rows), and a
 * reconnect may land on another gateway server with another delay: the run then holds two regimes,
 * and one median over both describes neither. Each matched event is put in the pair (baseline
 * connection, backbone connection) that delivered its two copies, and each pair gets its own
 * median delta and interval (the time-block interval of lib/stats/interval.ts, as the whole run's).
 *
 * Regime change: pairs are ordered by their first matched event; two consecutive pairs differ when
 * their 95% intervals of the median delta are disjoint. Disjoint 95% intervals are a deliberately
 * strict test: for two independent medians with equal standard errors s they mean a difference
 * above 2 × 1.96 s, i.e. 2.77 standard errors of the difference (a two-sided false-alarm rate of
 * about 0.6% per comparison), so a run with a few reconnects is not flagged on noise, while a step
 * of a few ms over seconds of data is (the intervals are a fraction of a ms wide then). A pair
 * without an interval (under 2 blocks of receive time: one event, or all at one instant) is not
 * compared (`regime_change: null`).
 */
import { blockMedianCI, percentileSorted, receiveTimeBlocks, sortValues, type BlockInterval } from '../stats';
import type { MatchedRows, PairedAnalysis } from './paired';
import { arrivalIso, type PathKeys } from './path';

export const REGIME_CHANGE_RULE =
  'pairs are ordered by their first matched event; two consecutive pairs are a regime change when their 95% intervals of the median delta (blocks of receive time) are disjoint: a difference of more than about 2.8 standard errors, a ~0.6% false-alarm rate per comparison; a pair without an interval is not compared';

export interface ConnectionPair {
  /** Ordinal of the baseline's connection (the receiver's own); null: not recorded. */
  baseline_connection: number | null;
  /** Ordinal of the forwarder's upstream connection that relayed the backbone copy; null: not recorded. */
  backbone_connection: number | null;
  /** Matched events with a delta delivered by this pair. */
  matched: number;
  /** Median backbone − baseline delta, ms. */
  median_delta_ms: number;
  median_delta_ci_ms: BlockInterval | null;
  /** First and last baseline arrival of the pair's events (ISO, ms), and the seconds between. */
  first_arrival: string | null;
  last_arrival: string | null;
  span_s: number;
}

export interface PairTransition {
  /** Indexes into `pairs`: consecutive pairs. */
  from: number;
  to: number;
  /** Median delta of `to` − median delta of `from`, ms. */
  change_ms: number;
  /** True when the two intervals are disjoint; null when either pair has no interval. */
  regime_change: boolean | null;
}

export interface ConnectionAnalysis {
  /** Connection ordinals seen in each path's rows (all rows, matched or not), ascending. */
  connections: { baseline: number[]; backbone: number[] };
  /** One entry per pair, ordered by first matched event; one pair: the run had no split. */
  pairs: ConnectionPair[];
  transitions: PairTransition[];
  /** Whether any consecutive pairs differ (see {@link REGIME_CHANGE_RULE}). */
  regime_change: boolean;
  rule: string;
}

/** The ordinals a path's rows carry (0, not recorded, left out). */
function ordinalsSeen(column: Uint16Array | null): number[] {
  if (column === null) return [];
  const seen = new Set<number>();
  for (let i = 0; i < column.length; i++) {
    const c = column[i] as number;
    if (c !== 0) seen.add(c);
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Splits the paired delta by connection pair; null when neither path records its connections
 * (CSVs written before the column, or by another tool). `paired` is the whole run's analysis: a run
 * with one pair reuses its figures instead of recomputing them.
 */
export function analyzeConnections(
  baseline: PathKeys,
  backbone: PathKeys,
  rows: MatchedRows,
  paired: PairedAnalysis,
  epochSecond: number | undefined,
): ConnectionAnalysis | null {
  const connA = baseline.connection;
  const connB = backbone.connection;
  if (connA === null && connB === null) return null;
  const timeA = baseline.arrivalNs;
  const timeB = backbone.arrivalNs;
  const pairOf = (a: number, b: number): number =>
    (connA === null ? 0 : (connA[a] as number)) * 65536 + (connB === null ? 0 : (connB[b] as number));

  // Both passes read the matched events (timed on both paths), each with the index of its pair.
  // Events of one stream come in id order, so the pair rarely changes from one event to the next:
  // the last lookup is kept. Pass 1 meets each pair first and registers it.
  const index = new Map<number, number>();
  const counts: number[] = [];
  const first: number[] = [];
  const last: number[] = [];
  const eachEvent = (visit: (k: number, t: number, delta: number) => void): void => {
    let lastKey = -1;
    let lastIndex = -1;
    for (let i = 0; i < rows.count; i++) {
      const a = rows.baseline[i] as number;
      const b = rows.backbone[i] as number;
      const t = timeA[a] as number;
      const delta = (timeB[b] as number) - t;
      const key = pairOf(a, b);
      if (key !== lastKey) {
        lastKey = key;
        let k = index.get(key);
        if (k === undefined) {
          k = counts.length;
          index.set(key, k);
          counts.push(0);
          first.push(Infinity);
          last.push(-Infinity);
        }
        lastIndex = k;
      }
      visit(lastIndex, t, delta);
    }
  };

  // Pass 1: the pairs, their counts and time spans.
  eachEvent((k, t) => {
    counts[k] = (counts[k] as number) + 1;
    if (t < (first[k] as number)) first[k] = t;
    if (t > (last[k] as number)) last[k] = t;
  });
  const keys = [...index.keys()];
  const describePair = (k: number, median: number, ci: BlockInterval | null): ConnectionPair => {
    const key = keys[k] as number;
    const a = Math.floor(key / 65536);
    const b = key % 65536;
    return {
      baseline_connection: a === 0 ? null : a,
      backbone_connection: b === 0 ? null : b,
      matched: counts[k] as number,
      median_delta_ms: median,
      median_delta_ci_ms: ci,
      first_arrival: arrivalIso(epochSecond, first[k]),
      last_arrival: arrivalIso(epochSecond, last[k]),
      span_s: ((last[k] as number) - (first[k] as number)) / 1e9,
    };
  };
  const connections = { baseline: ordinalsSeen(connA), backbone: ordinalsSeen(connB) };
  if (counts.length <= 1) {
    const pairs =
      counts.length === 0 || paired.delta_ms === null
        ? []
        : [describePair(0, paired.delta_ms.median, paired.median_delta_ci_ms)];
    return { connections, pairs, transitions: [], regime_change: false, rule: REGIME_CHANGE_RULE };
  }

  // Pass 2: each pair's deltas and times, laid out pair after pair (a counting sort).
  const offsets = new Float64Array(counts.length + 1);
  for (let k = 0; k < counts.length; k++) offsets[k + 1] = (offsets[k] as number) + (counts[k] as number);
  const total = offsets[counts.length] as number;
  const deltas = new Float64Array(total);
  const times = new Float64Array(total);
  const fill = offsets.slice(0, counts.length);
  eachEvent((k, t, delta) => {
    const at = fill[k] as number;
    deltas[at] = delta;
    times[at] = t;
    fill[k] = at + 1;
  });

  const pairs: ConnectionPair[] = [];
  const byStart = counts.map((_, k) => k).sort((x, y) => (first[x] as number) - (first[y] as number));
  for (const k of byStart) {
    const from = offsets[k] as number;
    const to = offsets[k + 1] as number;
    const pairTimes = times.subarray(from, to);
    const pairDeltas = deltas.subarray(from, to);
    const blocks = receiveTimeBlocks(pairTimes);
    // As in paired.ts: the times are in the blocks now, so their buffer keeps the deltas in
    // receive order while the deltas are sorted in place.
    pairTimes.set(pairDeltas);
    const sorted = sortValues(pairDeltas);
    const ci = blockMedianCI(sorted, pairTimes, blocks);
    pairs.push(
      describePair(
        k,
        percentileSorted(sorted, 50) / 1e6,
        ci === null ? null : { ...ci, low: ci.low / 1e6, high: ci.high / 1e6 },
      ),
    );
  }
  const transitions = pairs.slice(1).map((to, i) => transition(pairs[i] as ConnectionPair, to, i));
  return {
    connections,
    pairs,
    transitions,
    regime_change: transitions.some((t) => t.regime_change === true),
    rule: REGIME_CHANGE_RULE,
  };
}

/** Consecutive pairs `from` (at index `i`) and `to`, compared by {@link REGIME_CHANGE_RULE}. */
function transition(from: ConnectionPair, to: ConnectionPair, i: number): PairTransition {
  const x = from.median_delta_ci_ms;
  const y = to.median_delta_ci_ms;
  return {
    from: i,
    to: i + 1,
    change_ms: to.median_delta_ms - from.median_delta_ms,
    regime_change: x === null || y === null ? null : x.high < y.low || y.high < x.low,
  };
}
