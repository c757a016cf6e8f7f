/**
 * The earlier copy: a desk that pays for both paths subscribes to both and acts on whichever copy of
 * an event arrives first, so what it gets is, per event, the lower of the two latencies.
 *
 * Both copies are stamped by the one receiver clock and carry the same exchange event time E, so
 * per event `backbone latency = baseline latency + paired delta` and the earlier copy's latency is
 * `baseline latency + min(0, delta)`: only the baseline's per-event latency is kept for this
 * (PathOptions.keepLatency), the backbone's follows from the ns-exact delta. Figures are over the
 * events seen on both paths with a latency on both; events one path alone delivered are counted,
 * not mixed in (a desk gets those at that path's latency, and their number is the other point of a
 * second path). Values are worked in integer ns (the CSV's µs latency cells × 1000 plus deltas),
 * exact and sortable by the integer sorts.
 */
import { describeSorted, scaleDistribution, sortValues, type Distribution } from '../stats';
import type { MatchedRows, PairedResult } from './paired';
import type { PathKeys } from './path';

export const FIRST_COPY_NOTE =
  'If you subscribe to both paths and act on whichever copy of an event arrives first, this is the latency you get: per event, the earlier of the two copies (both stamped by the receiver clock), and how much it saves over relying on one path alone.';

export interface FirstCopyAnalysis {
  /** Events seen on both paths with a latency on both: the population of every figure below. */
  events: number;
  /** Matched events left out: a path had no latency for them (no event time, or a data error). */
  without_latency: number;
  /** Latency of the earlier copy, ms: min(baseline, backbone) per event. */
  latency_ms: Distribution;
  /** Path latency − earlier-copy latency per event, ms (0 where that path was first). */
  gain_ms: { baseline: Distribution; backbone: Distribution };
  /** Share of the events where each path's copy came first; tie: the same ns. */
  first_share: { baseline: number; backbone: number; tie: number };
  /** Distinct events one path delivered and the other never did (from the paired matching). */
  only_one_path: { baseline: number; backbone: number };
  note: string;
}

/**
 * The earlier-copy analysis from both paths' keys (the baseline's with `latencyMs`) over the matched
 * rows; null when the baseline's latencies were not kept or no matched event has a latency on both
 * paths (bookTicker).
 */
export function analyzeFirstCopy(
  baseline: PathKeys,
  backbone: PathKeys,
  rows: MatchedRows,
  paired: PairedResult,
): FirstCopyAnalysis | null {
  const latencyMs = baseline.latencyMs;
  if (latencyMs === null) return null;
  const timeA = baseline.arrivalNs;
  const timeB = backbone.arrivalNs;
  const earliest = new Float64Array(rows.count);
  let n = 0;
  let baselineFirst = 0;
  let backboneFirst = 0;
  for (let i = 0; i < rows.count; i++) {
    const a = rows.baseline[i] as number;
    const latency = latencyMs[a] as number;
    if (latency !== latency) continue;
    const delta = (timeB[rows.backbone[i] as number] as number) - (timeA[a] as number);
    if (delta < 0) backboneFirst++;
    else if (delta > 0) baselineFirst++;
    earliest[n++] = Math.round(latency * 1e6) + Math.min(0, delta);
  }
  if (n === 0) return null;
  const inMs = (sorted: Float64Array): Distribution =>
    scaleDistribution(describeSorted(sorted) as Distribution, 1e-6);
  const latency = inMs(sortValues(earliest.subarray(0, n)));

  // The deltas sorted: the pairing's when every matched event has a latency (the usual case),
  // else those of the events that have one.
  let sorted = paired.sortedDeltaNs;
  if (sorted === null || n !== sorted.length) {
    const own = new Float64Array(n);
    let k = 0;
    for (let i = 0; i < rows.count; i++) {
      const a = rows.baseline[i] as number;
      const l = latencyMs[a] as number;
      if (l === l) own[k++] = (timeB[rows.backbone[i] as number] as number) - (timeA[a] as number);
    }
    sorted = sortValues(own);
  }
  // The gains are max(0, ±delta), monotone in the delta: the sorted deltas give both, each written
  // ascending into the buffer the latencies are done with.
  const gains = earliest.subarray(0, n);
  for (let k = 0; k < n; k++) gains[k] = Math.max(0, sorted[k] as number);
  const gainOverBackbone = inMs(gains);
  for (let k = 0; k < n; k++) gains[k] = Math.max(0, -(sorted[n - 1 - k] as number));
  const gainOverBaseline = inMs(gains);

  return {
    events: n,
    without_latency: paired.analysis.matched - n,
    latency_ms: latency,
    gain_ms: { baseline: gainOverBaseline, backbone: gainOverBackbone },
    first_share: {
      baseline: baselineFirst / n,
      backbone: backboneFirst / n,
      tie: (n - baselineFirst - backboneFirst) / n,
    },
    only_one_path: { baseline: paired.analysis.baseline_only, backbone: paired.analysis.backbone_only },
    note: FIRST_COPY_NOTE,
  };
}
