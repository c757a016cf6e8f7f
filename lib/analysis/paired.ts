/**
 * The paired analysis: the same exchange event (stream kind, symbol, sequence_id) received on both
 * paths by one receiver, so `backbone arrival − baseline arrival` is measured on one host clock and
 * carries no clock-synchronisation error. Arrivals are exact integers of ns (see csv.ts), so each
 * delta is ns-exact.
 */
import {
  blockMedianCI,
  describeSorted,
  histogramOf,
  receiveTimeBlocks,
  scaleDistribution,
  sortValues,
  type BlockInterval,
  type Distribution,
  type Histogram,
} from '../stats';
import { assessEvidence, type Evidence } from './evidence';
import type { PathKeys } from './path';
import { quantileTable } from './path';

export interface StreamPairing {
  key: string;
  matched: number;
  baseline_only: number;
  backbone_only: number;
}

export interface PairedAnalysis {
  /** Events seen on both paths (each counted once, whatever duplicates a path had). */
  matched: number;
  /** Distinct events seen on one path only. */
  baseline_only: number;
  backbone_only: number;
  /** Matched events where a path had no receiver time (no delta for them). */
  matched_without_time: number;
  /** backbone − baseline arrival per matched event, ms (negative: backbone first). */
  delta_ms: Distribution | null;
  backbone_first_share: number | null;
  baseline_first_share: number | null;
  tie_share: number | null;
  /**
   * 95% confidence interval of the median delta, ms, over blocks of receive time (events of one
   * burst are not independent; lib/stats/interval.ts); null under 2 blocks (e.g. one event).
   */
  median_delta_ci_ms: BlockInterval | null;
  /** False when the interval spans 0 or the evidence is not sufficient; null without an interval. */
  significant: boolean | null;
  /** Whether the matched events are enough for a verdict (lib/analysis/evidence.ts). */
  evidence: Evidence;
  per_stream: StreamPairing[];
}

export interface PairedResult {
  analysis: PairedAnalysis;
  /** Evenly spaced quantiles of the delta in ms, for the chart. */
  deltaQuantiles: Float64Array | null;
  /** The delta's mergeable histogram in ms (lib/stats/histogram.ts), for the history. */
  deltaHistogram: Histogram;
  /**
   * Every delta, ns, sorted: the earlier copy's gains follow from them (first-copy.ts). Large (8
   * bytes per event): the caller drops it once read.
   */
  sortedDeltaNs: Float64Array | null;
}

/**
 * Walks one stream's rows of both paths in id order and calls `visit` once per event seen on both,
 * with each path's first arrival of it (the first row of an id in id order; ties keep file order).
 */
function matchStream(
  orderA: Uint32Array,
  seqA: Float64Array,
  orderB: Uint32Array,
  seqB: Float64Array,
  visit: (rowA: number, rowB: number) => void,
): { matched: number; onlyA: number; onlyB: number } {
  let i = 0;
  let j = 0;
  let matched = 0;
  let onlyA = 0;
  let onlyB = 0;
  while (i < orderA.length || j < orderB.length) {
    const rowA = orderA[i];
    const rowB = orderB[j];
    const idA = rowA === undefined ? Infinity : (seqA[rowA] as number);
    const idB = rowB === undefined ? Infinity : (seqB[rowB] as number);
    if (idA < idB) {
      onlyA++;
    } else if (idB < idA) {
      onlyB++;
    } else {
      matched++;
      visit(rowA as number, rowB as number);
    }
    // Step past every duplicate of the id(s) just consumed.
    if (idA <= idB) while (i < orderA.length && seqA[orderA[i] as number] === idA) i++;
    if (idB <= idA) while (j < orderB.length && seqB[orderB[j] as number] === idB) j++;
  }
  return { matched, onlyA, onlyB };
}

/**
 * The events seen on both paths with a receive time on both (the events {@link pairPaths} measures),
 * in its matching order: each one's first-arrival row on either path. The analyses that split or
 * combine the pairs their way (connections.ts, first-copy.ts, market-state.ts) read these rows in
 * one pass each instead of matching the streams again. Eight bytes per event.
 */
export interface MatchedRows {
  count: number;
  baseline: Uint32Array;
  backbone: Uint32Array;
}

export function matchedRows(baseline: PathKeys, backbone: PathKeys): MatchedRows {
  const capacity = Math.min(baseline.seq.length, backbone.seq.length);
  const rows = { count: 0, baseline: new Uint32Array(capacity), backbone: new Uint32Array(capacity) };
  const timeA = baseline.arrivalNs;
  const timeB = backbone.arrivalNs;
  const backboneGroup = new Map(backbone.groups.map((g, i) => [g.key, i]));
  baseline.groups.forEach((group, a) => {
    const b = backboneGroup.get(group.key);
    if (b === undefined) return;
    matchStream(
      baseline.orders[a] as Uint32Array,
      baseline.seq,
      backbone.orders[b] as Uint32Array,
      backbone.seq,
      (rowA, rowB) => {
        if (timeA[rowA] !== timeA[rowA] || timeB[rowB] !== timeB[rowB]) return;
        rows.baseline[rows.count] = rowA;
        rows.backbone[rows.count++] = rowB;
      },
    );
  });
  return rows;
}

/** Matches the paths' events by key and measures the per-event delta. */
export function pairPaths(baseline: PathKeys, backbone: PathKeys): PairedResult {
  const backboneGroup = new Map(backbone.groups.map((g, i) => [g.key, i]));
  const baselineKeys = new Set(baseline.groups.map((g) => g.key));
  const capacity = Math.min(baseline.seq.length, backbone.seq.length);
  const deltaBuffer = new Float64Array(capacity);
  // Each delta's receive time (baseline arrival, ns), for the interval's blocks of receive time.
  const timeBuffer = new Float64Array(capacity);
  let count = 0;
  let matched = 0;
  let baselineOnly = 0;
  let backboneOnly = 0;
  let withoutTime = 0;
  let backboneFirst = 0;
  let baselineFirst = 0;
  const per_stream: StreamPairing[] = [];

  const distinct = (order: Uint32Array, seq: Float64Array): number => {
    let n = 0;
    for (let k = 0; k < order.length; k++) {
      if (k === 0 || seq[order[k] as number] !== seq[order[k - 1] as number]) n++;
    }
    return n;
  };
  const timeA = baseline.arrivalNs;
  const timeB = backbone.arrivalNs;
  const measure = (rowA: number, rowB: number): void => {
    const delta = (timeB[rowB] as number) - (timeA[rowA] as number);
    if (delta === delta) {
      timeBuffer[count] = timeA[rowA] as number;
      deltaBuffer[count++] = delta;
      if (delta < 0) backboneFirst++;
      else if (delta > 0) baselineFirst++;
    } else withoutTime++;
  };

  baseline.groups.forEach((group, a) => {
    const b = backboneGroup.get(group.key);
    const orderA = baseline.orders[a] as Uint32Array;
    if (b === undefined) {
      const only = distinct(orderA, baseline.seq);
      baselineOnly += only;
      per_stream.push({ key: group.key, matched: 0, baseline_only: only, backbone_only: 0 });
      return;
    }
    const orderB = backbone.orders[b] as Uint32Array;
    const m = matchStream(orderA, baseline.seq, orderB, backbone.seq, measure);
    matched += m.matched;
    baselineOnly += m.onlyA;
    backboneOnly += m.onlyB;
    per_stream.push({ key: group.key, matched: m.matched, baseline_only: m.onlyA, backbone_only: m.onlyB });
  });
  backbone.groups.forEach((group, b) => {
    if (baselineKeys.has(group.key)) return;
    const only = distinct(backbone.orders[b] as Uint32Array, backbone.seq);
    backboneOnly += only;
    per_stream.push({ key: group.key, matched: 0, baseline_only: 0, backbone_only: only });
  });

  const blocks = receiveTimeBlocks(timeBuffer.subarray(0, count));
  // The times are in the blocks now; their buffer keeps the deltas in matching order while
  // deltaBuffer is sorted in place (saves a copy of a 10-million-value column).
  const inOrder = timeBuffer.subarray(0, count);
  inOrder.set(deltaBuffer.subarray(0, count));
  const deltas = sortValues(deltaBuffer.subarray(0, count));
  const inNs = describeSorted(deltas);
  const ciNs = blockMedianCI(deltas, inOrder, blocks);
  const quantiles = quantileTable(deltas);
  if (quantiles !== null)
    for (let k = 0; k < quantiles.length; k++) quantiles[k] = (quantiles[k] as number) / 1e6;
  const ci = ciNs === null ? null : { ...ciNs, low: ciNs.low / 1e6, high: ciNs.high / 1e6 };
  const share = (x: number): number | null => (count === 0 ? null : x / count);
  // The matched events' span of receive time: the blocks' (0 when they are all at one instant).
  const evidence = assessEvidence(count, count === 0 ? null : (blocks?.spanNs ?? 0) / 1e9);
  return {
    analysis: {
      matched,
      baseline_only: baselineOnly,
      backbone_only: backboneOnly,
      matched_without_time: withoutTime,
      delta_ms: inNs === null ? null : scaleDistribution(inNs, 1e-6),
      backbone_first_share: share(backboneFirst),
      baseline_first_share: share(baselineFirst),
      tie_share: share(count - backboneFirst - baselineFirst),
      median_delta_ci_ms: ci,
      significant: ci === null ? null : evidence.sufficient && (ci.low > 0 || ci.high < 0),
      evidence,
      per_stream,
    },
    deltaQuantiles: quantiles,
    deltaHistogram: histogramOf(deltas, 1e-6),
    sortedDeltaNs: deltas,
  };
}
