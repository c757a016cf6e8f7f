/**
 * One direction's delay queue: every item is released `delayMs + extra` after it was read, in order.
 *
 * Timing: `setTimeout` fires up to ~1 ms early or late (libuv counts whole milliseconds), which is
 * too coarse for a link whose delay must be right to a fraction of a millisecond. So the queue sets
 * one timer for `SPIN_LEAD_NS` before its head is due, then polls `process.hrtime.bigint()` with
 * `setImmediate` (other I/O keeps flowing between polls) and releases every due item at once. An
 * empty queue holds no timer, so an idle link costs no CPU; each release costs up to ~2 ms of
 * polling, so a link carrying more than a few hundred chunks a second keeps about one core busy.
 */

/** How long before an item is due the queue stops sleeping and starts polling. */
const SPIN_LEAD_NS = 1_500_000n;
const NS_PER_MS = 1_000_000n;
/** Compact the backing array once this many released entries sit at its front. */
const COMPACT_AFTER = 1024;

export type Item = { kind: 'data'; chunk: Buffer } | { kind: 'end' } | { kind: 'close'; reset: boolean };

/** How late releases were, relative to their due time; shared by every queue of a link. */
export interface ReleaseTiming {
  releases: number;
  lateSumNs: bigint;
  lateMaxNs: bigint;
}

export interface DelayLineOptions {
  delayMs: number;
  /** Draws the extra delay of one item, ms (non-negative). */
  extraMs: () => number;
  /** Receives the items that are due, oldest first. */
  deliver: (items: Item[]) => void;
  timing: ReleaseTiming;
}

interface Entry {
  dueNs: bigint;
  item: Item;
}

export class DelayLine {
  /** Bytes of data items waiting in the queue. */
  queuedBytes = 0;
  private entries: Entry[] = [];
  private head = 0;
  private lastDueNs = 0n;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly now = process.hrtime.bigint;

  constructor(private readonly options: DelayLineOptions) {}

  /** Items waiting. */
  get length(): number {
    return this.entries.length - this.head;
  }

  /** Queues an item read at `readNs`; returns when it is due (monotonic ns). */
  push(item: Item, readNs: bigint = this.now()): bigint {
    const delayMs = this.options.delayMs + this.options.extraMs();
    const ownDueNs = readNs + BigInt(Math.round(delayMs * 1e6));
    // Never overtake an earlier item: the head is always the earliest due, so one timer suffices.
    const dueNs = ownDueNs > this.lastDueNs ? ownDueNs : this.lastDueNs;
    this.lastDueNs = dueNs;
    this.entries.push({ dueNs, item });
    if (item.kind === 'data') this.queuedBytes += item.chunk.length;
    if (this.length === 1) this.arm();
    return dueNs;
  }

  /** Drops everything queued (the destination is gone) and cancels the timer. */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.entries = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private arm(): void {
    const entry = this.entries[this.head];
    if (entry === undefined || this.timer !== undefined || this.immediate !== undefined) return;
    const sleepMs = Number((entry.dueNs - this.now() - SPIN_LEAD_NS) / NS_PER_MS);
    if (sleepMs >= 1) this.timer = setTimeout(this.poll, sleepMs);
    else this.immediate = setImmediate(this.poll);
  }

  private readonly poll = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    const now = this.now();
    const due: Item[] = [];
    const { timing } = this.options;
    for (let entry = this.entries[this.head]; entry !== undefined && entry.dueNs <= now;) {
      due.push(entry.item);
      if (entry.item.kind === 'data') this.queuedBytes -= entry.item.chunk.length;
      const lateNs = now - entry.dueNs;
      timing.releases += 1;
      timing.lateSumNs += lateNs;
      if (lateNs > timing.lateMaxNs) timing.lateMaxNs = lateNs;
      this.head += 1;
      entry = this.entries[this.head];
    }
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (due.length > 0) this.options.deliver(due);
    this.arm();
  };
}
