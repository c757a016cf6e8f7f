/**
 * How a lost event is detected, per stream kind:
 * - trade / aggTrade: ids (`t` / `a`) are contiguous per symbol, so a jump of n > 1 is n − 1 lost;
 * - depth: a message follows when its `U` equals the previous `u` + 1; a break is one gap, counted
 *   as one lost message (the number of messages in a gap cannot be known, only that there was one);
 * - bookTicker: spot `u` is not contiguous, so loss is not measurable (null, never 0).
 * Duplicates and reordering (possible across a reconnect's overlap) are counted, not lost.
 */
import type { MarketEvent } from './parse';
import type { StreamKind } from './streams';

export interface LossTracker {
  /** Feeds one event in arrival order; returns how many losses it revealed. */
  observe(event: Pick<MarketEvent, 'symbol' | 'id' | 'firstId'>): number;
  /** Events lost so far, or null where the stream kind cannot tell. */
  readonly lost: number | null;
  /** Events seen again or out of order. */
  readonly duplicates: number;
}

class IdGapTracker implements LossTracker {
  private readonly last = new Map<string, number>();
  lost = 0;
  duplicates = 0;

  observe(event: Pick<MarketEvent, 'symbol' | 'id'>): number {
    const previous = this.last.get(event.symbol);
    if (previous === undefined) {
      this.last.set(event.symbol, event.id);
      return 0;
    }
    if (event.id <= previous) {
      this.duplicates += 1;
      return 0;
    }
    this.last.set(event.symbol, event.id);
    const missing = event.id - previous - 1;
    this.lost += missing;
    return missing;
  }
}

class DepthContinuityTracker implements LossTracker {
  private readonly last = new Map<string, number>();
  lost = 0;
  duplicates = 0;

  observe(event: Pick<MarketEvent, 'symbol' | 'id' | 'firstId'>): number {
    const previous = this.last.get(event.symbol);
    if (previous !== undefined && event.id <= previous) {
      this.duplicates += 1;
      return 0;
    }
    this.last.set(event.symbol, event.id);
    if (previous === undefined) return 0;
    const first = event.firstId ?? event.id;
    if (first > previous + 1) {
      this.lost += 1;
      return 1;
    }
    return 0;
  }
}

class UnmeasurableTracker implements LossTracker {
  readonly lost = null;
  duplicates = 0;
  observe(): number {
    return 0;
  }
}

/** The loss rule for a stream kind. */
export function createLossTracker(kind: StreamKind): LossTracker {
  switch (kind) {
    case 'trade':
    case 'aggTrade':
      return new IdGapTracker();
    case 'depth':
      return new DepthContinuityTracker();
    case 'bookTicker':
      return new UnmeasurableTracker();
  }
}

/** Whether loss can be measured on a stream kind. */
export function lossIsMeasurable(kind: StreamKind): boolean {
  return kind !== 'bookTicker';
}
