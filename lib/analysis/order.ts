/**
 * Per-stream orderings of a path's rows by exchange id, for the loss rules and the paired matching.
 * Rows are written in arrival order, so ids are nearly always sorted already; when they are not
 * (a reconnect's overlap, a file from another tool), rows are sorted stably by id.
 */
import { createLossTracker, lossIsMeasurable } from '../binance';
import type { StreamGroup } from './csv';
import { upperBound } from '../stats';

/** Row indices of each group, sorted by sequence id (ties keep file order, i.e. arrival order). */
export function orderByGroupAndId(group: Uint16Array, groupCount: number, seq: Float64Array): Uint32Array[] {
  const counts = new Uint32Array(groupCount);
  for (let i = 0; i < group.length; i++) {
    const g = group[i] as number;
    counts[g] = (counts[g] as number) + 1;
  }
  const orders = Array.from(counts, (count) => new Uint32Array(count));
  const fill = new Uint32Array(groupCount);
  if (groupCount === 1) {
    const only = orders[0] as Uint32Array;
    for (let i = 0; i < only.length; i++) only[i] = i;
  } else {
    for (let i = 0; i < group.length; i++) {
      const g = group[i] as number;
      const at = fill[g] as number;
      (orders[g] as Uint32Array)[at] = i;
      fill[g] = at + 1;
    }
  }
  for (const order of orders) sortById(order, seq);
  return orders;
}

function sortById(order: Uint32Array, seq: Float64Array): void {
  const m = order.length;
  let sorted = true;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < m; k++) {
    const v = seq[order[k] as number] as number;
    if (k > 0 && v < (seq[order[k - 1] as number] as number)) sorted = false;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (sorted) return;
  if ((max - min + 1) * m < Number.MAX_SAFE_INTEGER) {
    // Pack (id, position) into one exact double and use the native numeric sort: stable and fast.
    const keys = new Float64Array(m);
    for (let k = 0; k < m; k++) keys[k] = ((seq[order[k] as number] as number) - min) * m + k;
    keys.sort();
    const copy = order.slice();
    for (let k = 0; k < m; k++) {
      const key = keys[k] as number;
      order[k] = copy[key - Math.floor(key / m) * m] as number;
    }
    return;
  }
  const copy = Array.from(order);
  copy.sort((a, b) => (seq[a] as number) - (seq[b] as number) || a - b);
  order.set(copy);
}

export interface StreamLoss {
  key: string;
  streams: string[];
  kind: string | null;
  kind_assumed: boolean;
  events: number;
  /** Null where the stream kind cannot tell (bookTicker, unknown stream). Gaps and tail together. */
  events_lost: number | null;
  /** Of events_lost: after the path's last record, shown by the other path (window.ts). */
  events_lost_tail: number | null;
  /** Missing ids explained by unreadable rows between the gap's bounding rows: data errors, not loss. */
  unreadable_in_gaps: number;
  duplicates: number;
}

export interface LossResult {
  /** Sum over the measurable streams (gaps and tail); null when none is measurable. */
  events_lost: number | null;
  /**
   * Of events_lost: events after the path's last record that the other path shows existed (null
   * when not measurable or there is no other path to show them; window.ts).
   */
  events_lost_tail: number | null;
  /** The path's last clean receiver time (ISO) and how long before the run's last one it came. */
  last_arrival: string | null;
  silent_before_end_s: number | null;
  measurable: boolean;
  duplicates: number;
  per_stream: StreamLoss[];
}

/**
 * Applies each stream kind's loss rule (lib/binance) to the rows in id order. A gap whose missing
 * ids are accounted for by unreadable lines (no readable id) lying in the file between the gap's
 * two bounding rows is a data error, not loss: `unreadableAt` gives each such line's place (rows
 * read before it, ascending). In a file of several streams an unreadable line could belong to any
 * of them; it is offered to every gap it lies in, which can only under-count loss, and only when a
 * real gap and an unreadable line coincide.
 */
export function computeLoss(
  groups: readonly StreamGroup[],
  orders: readonly Uint32Array[],
  seq: Float64Array,
  firstId: Float64Array | null,
  unreadableAt: readonly number[] = [],
): LossResult {
  let total = 0;
  let measurable = false;
  let duplicates = 0;
  const per_stream: StreamLoss[] = [];
  const event = { symbol: '', id: 0, firstId: undefined as number | undefined };
  groups.forEach((g, index) => {
    const order = orders[index] as Uint32Array;
    const countable = g.kind !== undefined && lossIsMeasurable(g.kind);
    let lost: number | null = null;
    let dups = 0;
    let explained = 0;
    if (g.kind !== undefined) {
      const tracker = createLossTracker(g.kind);
      event.symbol = g.symbol;
      let previous = -1;
      for (let k = 0; k < order.length; k++) {
        const row = order[k] as number;
        event.id = seq[row] as number;
        const first = firstId === null ? NaN : (firstId[row] as number);
        event.firstId = first === first ? first : undefined;
        const missing = tracker.observe(event);
        if (missing > 0 && unreadableAt.length > 0 && previous >= 0) {
          const low = Math.min(previous, row);
          const high = Math.max(previous, row);
          const between = upperBound(unreadableAt, high) - upperBound(unreadableAt, low);
          explained += Math.min(missing, between);
        }
        if (previous < 0 || (seq[row] as number) > (seq[previous] as number)) previous = row;
      }
      lost = countable && tracker.lost !== null ? tracker.lost - explained : null;
      dups = tracker.duplicates;
    } else {
      for (let k = 1; k < order.length; k++) {
        if (seq[order[k] as number] === seq[order[k - 1] as number]) dups++;
      }
    }
    if (lost !== null) {
      total += lost;
      measurable = true;
    }
    duplicates += dups;
    per_stream.push({
      key: g.key,
      streams: g.streams,
      kind: g.kind ?? null,
      kind_assumed: g.kindAssumed,
      events: order.length,
      events_lost: lost,
      events_lost_tail: null,
      unreadable_in_gaps: explained,
      duplicates: dups,
    });
  });
  return {
    events_lost: measurable ? total : null,
    events_lost_tail: null,
    last_arrival: null,
    silent_before_end_s: null,
    measurable,
    duplicates,
    per_stream,
  };
}
