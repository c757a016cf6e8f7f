/**
 * A nanosecond wall clock that agrees with the system's realtime clock to the microsecond.
 *
 * Why not the obvious readings: `Date.now()` has 1 ms resolution, and
 * `performance.timeOrigin + performance.now()` was measured up to ~5 ms apart between two Node
 * processes on one machine (timeOrigin is taken once, coarsely, at process start).
 *
 * How: `process.hrtime.bigint()` (CLOCK_MONOTONIC, ns) is anchored to the realtime clock at the
 * instant `Date.now()` ticks over to a new millisecond. `Date.now()` floors the realtime clock, so at
 * that edge the realtime clock reads exactly `newMs * 1e6` ns, within the ~100 ns of one loop turn.
 * NTP/chrony frequency and slew corrections apply to CLOCK_MONOTONIC and CLOCK_REALTIME alike, so
 * only a step of the realtime clock moves them apart: a cheap check every `checkIntervalMs`
 * catches a step (re-anchors at once), and a precise re-anchor every `reanchorIntervalMs` keeps any
 * residual difference from growing. A precise re-anchor waits, without blocking the event loop,
 * until the predicted millisecond edge is near, and only then spins for at most `MAX_SPIN_NS`.
 */

/** How often the clock compares itself with `Date.now()` to catch a step. */
export const DEFAULT_CHECK_INTERVAL_MS = 1_000;
/** How often the clock re-anchors precisely on a millisecond edge. */
export const DEFAULT_REANCHOR_INTERVAL_MS = 30_000;
/** The longest a background re-anchor may block the event loop spinning on an edge. */
const MAX_SPIN_NS = 150_000n;
/** Start spinning this long before the predicted edge. */
const SPIN_LEAD_NS = 60_000n;
const NS_PER_MS = 1_000_000n;

export interface ClockSources {
  /** Monotonic nanoseconds. */
  hrtime: () => bigint;
  /** Realtime milliseconds, floored (as `Date.now()`). */
  dateNow: () => number;
}

export interface ClockOptions {
  checkIntervalMs?: number;
  reanchorIntervalMs?: number;
  sources?: ClockSources;
}

export interface AnchorInfo {
  /** Realtime minus monotonic, ns. */
  offsetNs: bigint;
  /** Width of the window the edge was seen in, ns: the anchor's own uncertainty. */
  uncertaintyNs: bigint;
  /** How far the previous anchor had drifted from this one, ns (0 for the first). */
  correctionNs: bigint;
  /** Why this anchor was taken. */
  reason: 'start' | 'periodic' | 'step';
}

const systemSources: ClockSources = { hrtime: process.hrtime.bigint, dateNow: Date.now };

/** An edge seen in a window wider than this is discarded (the thread was likely preempted). */
const MAX_EDGE_WINDOW_NS = 5_000n;

/**
 * Spins until `dateNow()` ticks over; returns the anchor (realtime − monotonic) and its uncertainty.
 * Each `dateNow()` call is bracketed by two monotonic readings, so the edge is known to lie between
 * the start of the last call that returned the old value and the end of the first that returned the
 * new one. A window wider than MAX_EDGE_WINDOW_NS, or a jump of more than one ms (both signs of a
 * preemption inside the window), is discarded and the next edge is tried.
 */
function anchorOnEdge(
  sources: ClockSources,
  maxSpinNs: bigint | undefined,
): { offsetNs: bigint; uncertaintyNs: bigint } | undefined {
  const { hrtime, dateNow } = sources;
  const start = hrtime();
  let previousStart = hrtime();
  let previousMs = dateNow();
  for (;;) {
    const callStart = hrtime();
    const ms = dateNow();
    const callEnd = hrtime();
    if (ms !== previousMs) {
      const window = callEnd - previousStart;
      if (ms === previousMs + 1 && window <= MAX_EDGE_WINDOW_NS) {
        const edgeHr = (previousStart + callEnd) / 2n;
        return { offsetNs: BigInt(ms) * NS_PER_MS - edgeHr, uncertaintyNs: window };
      }
    }
    if (maxSpinNs !== undefined && callEnd - start > maxSpinNs) return undefined;
    previousStart = callStart;
    previousMs = ms;
  }
}

export class WallClock {
  private offsetNs: bigint;
  private readonly sources: ClockSources;
  private readonly timers: NodeJS.Timeout[] = [];
  private lastPreciseHr: bigint;
  private pendingEdge = false;
  private readonly reanchorIntervalNs: bigint;
  /** The anchors taken so far (the latest last); kept short. */
  readonly anchors: AnchorInfo[] = [];

  constructor(options: ClockOptions = {}) {
    this.sources = options.sources ?? systemSources;
    const first = anchorOnEdge(this.sources, undefined);
    if (first === undefined) throw new Error('unreachable: unbounded spin returned nothing');
    this.offsetNs = first.offsetNs;
    this.lastPreciseHr = this.sources.hrtime();
    this.record({ ...first, correctionNs: 0n, reason: 'start' });
    this.reanchorIntervalNs = BigInt(options.reanchorIntervalMs ?? DEFAULT_REANCHOR_INTERVAL_MS) * NS_PER_MS;
    const checkMs = options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
    if (checkMs > 0) {
      const timer = setInterval(() => this.check(), checkMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Nanoseconds since the Unix epoch. */
  nowNs(): bigint {
    return this.sources.hrtime() + this.offsetNs;
  }

  /** Microseconds since the Unix epoch, as an integer number (exact: below 2^53). */
  nowUs(): number {
    return Number((this.sources.hrtime() + this.offsetNs) / 1000n);
  }

  /** Converts a monotonic `process.hrtime.bigint()` reading taken earlier into wall-clock ns. */
  fromHrtime(hr: bigint): bigint {
    return hr + this.offsetNs;
  }

  /** The current anchor's uncertainty in ns (how well the edge was seen). */
  uncertaintyNs(): bigint {
    return this.anchors[this.anchors.length - 1]?.uncertaintyNs ?? 0n;
  }

  /** Stops the background checks (the timers are unref'd, so this is only for tidiness). */
  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }

  /**
   * The cheap check: our reading floored to ms must equal `Date.now()`, give or take the tick that
   * may fall between the two reads. Anything more is a step of the realtime clock.
   */
  check(): void {
    const ours = this.nowNs() / NS_PER_MS;
    const theirs = BigInt(this.sources.dateNow());
    const diff = theirs - ours;
    if (diff > 1n || diff < -1n) {
      this.reanchorNow('step');
      return;
    }
    if (this.sources.hrtime() - this.lastPreciseHr >= this.reanchorIntervalNs) this.reanchorSoon();
  }

  /** Re-anchors at once, spinning up to 1 ms (used on a step, and by tests). */
  reanchorNow(reason: AnchorInfo['reason'] = 'periodic'): AnchorInfo {
    const next = anchorOnEdge(this.sources, undefined);
    if (next === undefined) throw new Error('unreachable: unbounded spin returned nothing');
    return this.apply(next, reason);
  }

  /** Re-anchors at the next millisecond edge without blocking the event loop for more than ~0.2 ms. */
  private reanchorSoon(): void {
    if (this.pendingEdge) return;
    this.pendingEdge = true;
    const poll = (): void => {
      const intoMs = this.nowNs() % NS_PER_MS;
      if (NS_PER_MS - intoMs <= SPIN_LEAD_NS) {
        const next = anchorOnEdge(this.sources, MAX_SPIN_NS);
        if (next !== undefined) {
          this.pendingEdge = false;
          this.apply(next, 'periodic');
          return;
        }
      }
      setImmediate(poll);
    };
    setImmediate(poll);
  }

  private apply(next: { offsetNs: bigint; uncertaintyNs: bigint }, reason: AnchorInfo['reason']): AnchorInfo {
    const info: AnchorInfo = { ...next, correctionNs: next.offsetNs - this.offsetNs, reason };
    this.offsetNs = next.offsetNs;
    this.lastPreciseHr = this.sources.hrtime();
    this.record(info);
    return info;
  }

  private record(info: AnchorInfo): void {
    this.anchors.push(info);
    if (this.anchors.length > 64) this.anchors.shift();
  }
}

let shared: WallClock | undefined;

/** The process-wide wall clock, anchored on first use. */
export function wallClock(): WallClock {
  shared ??= new WallClock();
  return shared;
}
