/**
 * A path's loss, per stream and in all: each stream kind's loss rule (lib/binance) applied to the
 * rows in id order (order.ts). The events missing at the end of a run are added later, over both
 * paths' window (window.ts).
 */
import { createLossTracker, lossIsMeasurable } from '../binance';
import { upperBound } from '../stats';
import type { StreamGroup } from './path-columns';

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
