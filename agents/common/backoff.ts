/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * the n-th retry waits a uniformly random time in [0, min(cap, base · 2^n)]. Full jitter spreads
 * the retries of many clients that lost their peer at the same instant, which matters against
 * Binance's 300 connection attempts per 5 minutes per IP.
 */

/** First retry's upper bound, ms. */
export const DEFAULT_BACKOFF_BASE_MS = 250;
/** Upper bound of any wait, ms (the seed's `reconnect_max_delay_secs` = 30). */
export const DEFAULT_BACKOFF_CAP_MS = 30_000;

export interface BackoffOptions {
  /** [baseMs=250] Upper bound of the first wait. */
  baseMs?: number;
  /** [capMs=30000] Upper bound of every wait. */
  capMs?: number;
  /** Uniform [0, 1) source; Math.random unless a test fixes it. */
  random?: () => number;
}

export class Backoff {
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly random: () => number;
  /** Retries since the last reset. */
  attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.capMs = options.capMs ?? DEFAULT_BACKOFF_CAP_MS;
    this.random = options.random ?? Math.random;
  }

  /** The upper bound of the next wait (before jitter), ms. */
  ceilingMs(): number {
    // 2^attempts overflows to Infinity long after it passed the cap: min() keeps it finite.
    return Math.min(this.capMs, this.baseMs * 2 ** this.attempts);
  }

  /** The next wait, ms, and counts the attempt. */
  next(): number {
    const delay = this.random() * this.ceilingMs();
    this.attempts += 1;
    return delay;
  }

  /** Starts over from the base (after a connection proved stable). */
  reset(): void {
    this.attempts = 0;
  }
}
