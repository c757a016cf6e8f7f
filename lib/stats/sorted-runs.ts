/**
 * Percentiles and the time-block interval over values kept as sorted runs, one run per block of
 * receive time, instead of one sorted copy plus the values in receive order.
 *
 * The interval of interval.ts needs, per block, how many values lie below the sample quantile: with
 * each block's values sorted that count is a binary search, and the quantile itself is an order
 * statistic of the union of the runs, found without merging them. So a split of 10 million events
 * (the market-state table) costs one buffer of its values, not three (values, sorted copy, block
 * index). The figures are the same numbers {@link percentileSorted} and {@link blockQuantileCI} give
 * on the same values (test/sorted-runs.test.ts holds them to it).
 */
import { lowerBound, upperBound } from './describe';
import { intervalFromBlockCounts, type BlockInterval } from './interval';

/** How many values of all runs are below x, and how many equal it. */
function rankOf(runs: readonly Float64Array[], x: number): { below: number; equal: number } {
  let below = 0;
  let upTo = 0;
  for (const run of runs) {
    below += lowerBound(run, x);
    upTo += upperBound(run, x);
  }
  return { below, equal: upTo - below };
}

/** The k-th smallest value (0-based) of the union of sorted runs; k < their total length. */
export function kthOfRuns(runs: readonly Float64Array[], k: number): number {
  for (const run of runs) {
    // The smallest value of this run whose rank reaches past k; it is the answer when its rank
    // starts at or before k (it is then the k-th of the union), else the answer is in another run.
    let lo = 0;
    let hi = run.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const { below, equal } = rankOf(runs, run[mid] as number);
      if (below + equal > k) hi = mid;
      else lo = mid + 1;
    }
    if (lo < run.length) {
      const x = run[lo] as number;
      if (rankOf(runs, x).below <= k) return x;
    }
  }
  throw new RangeError(`order statistic ${k} is outside the runs`);
}

/** The p-th percentile (p in [0, 100]) of the union of sorted runs: {@link percentileSorted}'s definition. */
export function percentileOfRuns(runs: readonly Float64Array[], p: number): number {
  let n = 0;
  for (const run of runs) n += run.length;
  if (n === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside [0, 100]`);
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  if (lo >= n - 1) return kthOfRuns(runs, n - 1);
  const a = kthOfRuns(runs, lo);
  const frac = h - lo;
  return frac === 0 ? a : a + frac * (kthOfRuns(runs, lo + 1) - a);
}

/**
 * {@link blockQuantileCI} of the p-quantile when `runs[b]` holds block b's values sorted ascending
 * (an empty run is an empty block); `blockNs` is the blocks' length. Null with fewer than 2 non-empty
 * blocks.
 */
export function blockQuantileCIOfRuns(
  runs: readonly Float64Array[],
  blockNs: number,
  p: number,
  options: { confidence?: number } = {},
): BlockInterval | null {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile needs 0 < p < 1 (p ${p})`);
  let n = 0;
  for (const run of runs) n += run.length;
  if (n === 0) return null;
  const q = percentileOfRuns(runs, 100 * p);
  const below = new Float64Array(runs.length);
  const size = new Float64Array(runs.length);
  runs.forEach((run, b) => {
    const lower = lowerBound(run, q);
    below[b] = lower + (upperBound(run, q) - lower) / 2;
    size[b] = run.length;
  });
  return intervalFromBlockCounts(below, size, n, p, options.confidence ?? 0.95, blockNs, (at) =>
    percentileOfRuns(runs, at),
  );
}
