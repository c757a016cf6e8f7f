/**
 * One direction's delay queue: every item is released `delayMs + extra` after it was read, in order.
 *
 * Timing: `setTimeout` fires up to ~1 ms early or late (libuv counts whole milliseconds), which is
 * too coarse for a link whose delay must be right to a fraction of a millisecond. So the queue sets
 * one timer for `SPIN_LEAD_NS` before its head is due, then polls `process.hrtime.bigint()` with
 * `setImmediate` (other I/O keeps flowing between polls) and releases every due item at once.
 * Polling alone would spin a core for the whole lead (≈1.5 ms per release: a link at a few hundred
 * chunks a second kept a core busy, and three links, the agents and the simulator fought over two
 * cores). So while the head is more than `SPIN_NS` away, each poll first naps: it blocks the thread
 * with `Atomics.wait` (a timed sleep to the µs, no CPU) for at most `NAP_SLICE_NS`, and never past
 * `SPIN_NS` before the earliest due item of any queue in the process. Only the last `SPIN_NS` are
 * spun, because a sleeping thread wakes up to ~60 µs late (the kernel's timer slack). The price:
 * data arriving during a nap is read (and stamped) up to `NAP_SLICE_NS` later. An empty queue holds
 * no timer, so an idle link costs no CPU.
 */

/** How long before an item is due the queue stops sleeping and starts polling. */
const SPIN_LEAD_NS = 1_500_000n;
const NS_PER_MS = 1_000_000n;
/** The last stretch before a release that is spun, not slept: a sleep may overshoot by this much. */
const SPIN_NS = 150_000n;
/** The longest nap: bounds how late data arriving meanwhile is read. */
const NAP_SLICE_NS = 200_000n;
const napCell = new Int32Array(new SharedArrayBuffer(4));
/** Queues whose head is within the lead (polling): a nap must not overrun any of their heads. */
const polling = new Set<DelayLine>();

/** Blocks the thread until `SPIN_NS` before the earliest polling head, at most `NAP_SLICE_NS`. */
function nap(now: bigint): void {
  let napNs = NAP_SLICE_NS;
  for (const line of polling) {
    const room = line.headDueNs - now - SPIN_NS;
    if (room < napNs) napNs = room;
  }
  // Nobody else writes the cell: the wait always runs to its timeout.
  if (napNs > 10_000n) Atomics.wait(napCell, 0, 0, Number(napNs) / 1e6);
}
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
  /**
   * Taken off each drawn delay, ms, down to 0 (an item is never due before it was read): the lab's
   * own hop cost (LinkConfig `compensationMs`). 0 when absent.
   */
  compensationMs?: number;
  /** Receives the items that are due, oldest first. */
  deliver: (items: Item[]) => void;
  timing: ReleaseTiming;
  /** Told of every data item when it is released (the link's ground truth, lib/lab-truth.ts). */
  onRelease?: (entry: Readonly<Entry>, releaseNs: bigint) => void;
}

/** A queued item and what the line applied to it (monotonic `process.hrtime` ns). */
export interface Entry {
  readNs: bigint;
  /** The delay drawn for it: `delayMs` + the extra. */
  drawnNs: bigint;
  /** What was taken off the drawn delay: min(compensation, drawn). */
  compensationNs: bigint;
  /** When it is released: read + drawn − compensation, or later when it waits behind an earlier item. */
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
  private readonly compensationNs: bigint;

  constructor(private readonly options: DelayLineOptions) {
    this.compensationNs = BigInt(Math.round((options.compensationMs ?? 0) * 1e6));
  }

  /** Items waiting. */
  get length(): number {
    return this.entries.length - this.head;
  }

  /** Queues an item read at `readNs`; returns when it is due (monotonic ns). */
  push(item: Item, readNs: bigint = this.now()): bigint {
    const delayMs = this.options.delayMs + this.options.extraMs();
    const drawnNs = BigInt(Math.round(delayMs * 1e6));
    const compensationNs = drawnNs < this.compensationNs ? drawnNs : this.compensationNs;
    const ownDueNs = readNs + drawnNs - compensationNs;
    // Never overtake an earlier item: the head is always the earliest due, so one timer suffices.
    const dueNs = ownDueNs > this.lastDueNs ? ownDueNs : this.lastDueNs;
    this.lastDueNs = dueNs;
    this.entries.push({ readNs, drawnNs, compensationNs, dueNs, item });
    if (item.kind === 'data') this.queuedBytes += item.chunk.length;
    if (this.length === 1) this.arm();
    return dueNs;
  }

  /** Drops everything queued (the destination is gone) and cancels the timer. */
  clear(): void {
    polling.delete(this);
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.entries = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  /** When the head is due (monotonic ns); far in the future for an empty queue. */
  get headDueNs(): bigint {
    return this.entries[this.head]?.dueNs ?? BigInt(Number.MAX_SAFE_INTEGER);
  }

  private arm(): void {
    const entry = this.entries[this.head];
    if (entry === undefined) polling.delete(this);
    if (entry === undefined || this.timer !== undefined || this.immediate !== undefined) return;
    const sleepMs = Number((entry.dueNs - this.now() - SPIN_LEAD_NS) / NS_PER_MS);
    if (sleepMs >= 1) {
      polling.delete(this);
      this.timer = setTimeout(this.poll, sleepMs);
    } else {
      polling.add(this);
      this.immediate = setImmediate(this.poll);
    }
  }

  private readonly poll = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    let now = this.now();
    polling.add(this);
    if (this.headDueNs - now > SPIN_NS) {
      nap(now);
      now = this.now();
    }
    const due: Item[] = [];
    const { timing, onRelease } = this.options;
    for (let entry = this.entries[this.head]; entry !== undefined && entry.dueNs <= now;) {
      due.push(entry.item);
      if (entry.item.kind === 'data') this.queuedBytes -= entry.item.chunk.length;
      const lateNs = now - entry.dueNs;
      timing.releases += 1;
      timing.lateSumNs += lateNs;
      if (lateNs > timing.lateMaxNs) timing.lateMaxNs = lateNs;
      if (onRelease !== undefined && entry.item.kind === 'data') onRelease(entry, now);
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
