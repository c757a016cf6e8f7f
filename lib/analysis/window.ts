/**
 * Loss at the edges of a path's record: events the exchange sent in the run's window that a path
 * never recorded because it started late or stopped early. A path's own id gaps (loss.ts) cannot
 * show them: a path that dies at 12 s of a 35 s run has no gap, just an early last id.
 *
 * The window, per stream (measurable kinds only; bookTicker stays "not measurable"):
 * - it ends at the later of the two paths' last ids: a path that died or went silent loses its
 *   tail. Events still in flight on the slower path when the receiver stopped are not loss: the
 *   other path's events count only if they arrived at least the slower path's usual lag (the
 *   99.9th percentile of its paired delta, 0 when it is the faster) before the run's last arrival.
 * - it starts at the measurement start, the later of the two paths' first ids: the agents connect
 *   at different times (the receiver before the forwarder), so a head only one path could see is
 *   not loss. So no path has head loss today; a run that records that both paths were connected
 *   before the first event could start the window at the earlier first id instead.
 * A stream one path never recorded at all loses the other path's events of it that arrived while
 * the path was recording (from its first arrival on).
 *
 * Trade and aggTrade ids are contiguous, so the tail is `last id in the window − own last id`
 * (ids neither path saw count too: the exchange sent them); a depth tail is the number of the other
 * path's messages after the own last update id (a depth gap's size cannot be known).
 */
import { lossIsMeasurable } from '../binance';
import type { PathName } from '../samples';
import type { StreamLoss } from './loss';
import { arrivalRange, type PathAnalysis, type PathKeys } from './path';

/** Paired-delta percentile taken as a path's usual lag behind the other (see above). */
export const IN_FLIGHT_PERCENTILE = 99.9;

/** A percentile (0–100) from evenly spaced quantiles (paired.ts' deltaQuantiles, ms). */
function fromQuantiles(quantiles: Float64Array, p: number): number {
  return quantiles[Math.round((p / 100) * (quantiles.length - 1))] as number;
}

/**
 * How long the path usually lags the other, ns (≥ 0): from the paired delta (backbone − baseline)
 * quantiles in ms, or 0 without them.
 */
function inFlightAllowanceNs(path: PathName, deltaQuantilesMs: Float64Array | null): number {
  if (deltaQuantilesMs === null || deltaQuantilesMs.length === 0) return 0;
  const lagMs =
    path === 'backbone'
      ? fromQuantiles(deltaQuantilesMs, IN_FLIGHT_PERCENTILE)
      : -fromQuantiles(deltaQuantilesMs, 100 - IN_FLIGHT_PERCENTILE);
  return lagMs > 0 ? lagMs * 1e6 : 0;
}

/** Tail of one stream of `own` shown by the same stream of `other`. */
function streamTail(
  kind: string,
  own: { keys: PathKeys; order: Uint32Array | null; firstArrival: number },
  other: { keys: PathKeys; order: Uint32Array },
  cutNs: number,
): number {
  const ownOrder = own.order;
  const ownLast =
    ownOrder !== null && ownOrder.length > 0
      ? (own.keys.seq[ownOrder[ownOrder.length - 1] as number] as number)
      : null;
  const { seq, arrivalNs } = other.keys;
  let maxId = -Infinity;
  let minId = Infinity;
  let distinct = 0;
  let previousId = NaN;
  for (let k = other.order.length - 1; k >= 0; k--) {
    const row = other.order[k] as number;
    const id = seq[row] as number;
    if (ownLast !== null && id <= ownLast) break;
    const t = arrivalNs[row] as number;
    if (t !== t || t > cutNs) continue;
    if (ownLast === null && t < own.firstArrival) continue;
    if (id > maxId) maxId = id;
    if (id < minId) minId = id;
    if (id !== previousId) distinct++;
    previousId = id;
  }
  if (distinct === 0) return 0;
  if (kind === 'trade' || kind === 'aggTrade') return ownLast === null ? maxId - minId + 1 : maxId - ownLast;
  return distinct;
}

/**
 * Adds each path's tail loss to its `events_lost` (summary, loss and per-stream rows) and sets
 * `events_lost_tail`, `last_arrival` and `silent_before_end_s`. Call it once, after both paths are
 * read and paired, before their summaries are written.
 */
export function applyTailLoss(
  paths: Record<PathName, PathAnalysis>,
  deltaQuantilesMs: Float64Array | null,
): void {
  const ranges = {
    baseline: arrivalRange(paths.baseline.keys.arrivalNs),
    backbone: arrivalRange(paths.backbone.keys.arrivalNs),
  };
  const endNs = Math.max(ranges.baseline?.last ?? -Infinity, ranges.backbone?.last ?? -Infinity);
  for (const [name, otherName] of [
    ['baseline', 'backbone'],
    ['backbone', 'baseline'],
  ] as [PathName, PathName][]) {
    const own = paths[name];
    const other = paths[otherName];
    const cutNs = endNs === -Infinity ? Infinity : endNs - inFlightAllowanceNs(name, deltaQuantilesMs);
    const ownFirst = ranges[name]?.first ?? Infinity;
    const ownIndex = new Map(own.keys.groups.map((g, i) => [g.key, i]));
    let tailTotal = 0;
    let anyMeasurable = false;
    // Streams the path never recorded: rows of their own.
    const unrecorded: StreamLoss[] = [];
    other.keys.groups.forEach((group, index) => {
      if (group.kind === undefined || !lossIsMeasurable(group.kind)) return;
      const at = ownIndex.get(group.key);
      const tail = streamTail(
        group.kind,
        {
          keys: own.keys,
          order: at === undefined ? null : (own.keys.orders[at] as Uint32Array),
          firstArrival: ownFirst,
        },
        { keys: other.keys, order: other.keys.orders[index] as Uint32Array },
        cutNs,
      );
      anyMeasurable = true;
      tailTotal += tail;
      const row = own.loss.per_stream.find((s) => s.key === group.key);
      if (row !== undefined) {
        row.events_lost_tail = tail;
        if (row.events_lost !== null) row.events_lost += tail;
      } else if (tail > 0) {
        unrecorded.push({
          key: group.key,
          streams: group.streams,
          kind: group.kind,
          kind_assumed: group.kindAssumed,
          events: 0,
          events_lost: tail,
          events_lost_tail: tail,
          unreadable_in_gaps: 0,
          duplicates: 0,
        });
      }
    });
    const loss = own.loss;
    loss.per_stream.push(...unrecorded);
    if (anyMeasurable) {
      loss.events_lost_tail = tailTotal;
      if (loss.measurable || tailTotal > 0) {
        loss.events_lost = (loss.events_lost ?? 0) + tailTotal;
        loss.measurable = true;
      }
    }
    const ownLast = ranges[name]?.last;
    loss.silent_before_end_s = ownLast === undefined ? null : (endNs - ownLast) / 1e9;
    own.summary.events_lost = loss.events_lost;
    own.summary.events_lost_tail = loss.events_lost_tail;
    own.summary.loss_measurable = loss.measurable;
  }
}
