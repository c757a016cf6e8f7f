/**
 * A mergeable latency histogram: log-spaced bins with a stated relative precision, so that a
 * percentile over many runs is computed from their merged bins instead of from each run's
 * percentiles (a percentile of percentiles is not the percentile of the data).
 *
 * Bins (values in ms). Let α = 0.005 and γ = (1 + α)/(1 − α). A value v with |v| ≥ 1 ns falls in
 * bin k = ⌈ln|v| / ln γ⌉, the interval (γ^(k−1), γ^k], whose representative value (1 − α)·γ^k is
 * within α of every value in it. The stored bin is signed, `sign(v)·(k + BIN_OFFSET)` (the offset
 * keeps every |v| ≥ 1 ns away from 0), and bin 0 holds the zeros (|v| < 1 ns: a tie of the paired
 * delta, whose arrivals are whole ns). The value of bin b is then `sign(b)·(1 − α)·γ^(|b| − 1400)`,
 * which is increasing in b: ordering bins by number orders them by value, in TypeScript and in SQL
 * (cloudformation/history-athena.yml uses the same formula).
 *
 * Precision: a percentile from the bins uses the repository's definition (linear interpolation
 * between closest ranks, describe.ts) over the bins' representative values. Each rank's value is
 * within α = 0.5 % of the true sample at that rank, so the percentile is within α of the exact one
 * when its two neighbouring samples have the same sign, and within α·max(|x[lo]|, |x[lo+1]|) when
 * they straddle 0 (plus < 1 ns for values stored as 0). Merging is bin-wise addition: exact.
 *
 * Size: ~230 bins per decade; a run's one-way latencies (e.g. 110–200 ms) fill ~60 bins, a paired
 * delta spread over ±10 ms a few hundred.
 */
import { z } from 'zod';

/** Relative precision of each bin's value: 0.5 %. */
export const HISTOGRAM_RELATIVE_ACCURACY = 0.005;
/** Added to |k| so that every value of at least 1 ns gets a bin ≥ 1 (1 ns is k = −1381). */
export const HISTOGRAM_BIN_OFFSET = 1400;
/** Values smaller than this in magnitude (1 ns) are stored as 0. */
export const HISTOGRAM_ZERO_MS = 1e-6;
/** Names the binning; a reader merges only histograms of its own scheme. */
export const HISTOGRAM_SCHEME = 'log-bins/0.005';

const ALPHA = HISTOGRAM_RELATIVE_ACCURACY;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LOG_GAMMA = Math.log(GAMMA);

/**
 * A histogram as stored in report.json and the history record: sparse, bins ascending, counts
 * positive, one count per bin (two arrays rather than an object: Athena unnests them together).
 */
export const histogramSchema = z
  .object({
    scheme: z.string(),
    bins: z.array(z.number().int()),
    counts: z.array(z.number().int().positive()),
  })
  .refine((h) => h.bins.length === h.counts.length, { message: 'bins and counts differ in length' })
  .refine((h) => h.bins.every((b, i) => i === 0 || b > (h.bins[i - 1] as number)), {
    message: 'bins are not strictly ascending',
  });

export type Histogram = z.output<typeof histogramSchema>;

/** The percentiles the history shows across runs (ms). */
export interface HistogramPercentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** The signed bin of a value in ms (see the file's comment). */
export function histogramBin(valueMs: number): number {
  const magnitude = Math.abs(valueMs);
  if (!(magnitude >= HISTOGRAM_ZERO_MS)) return 0;
  const bin = Math.ceil(Math.log(magnitude) / LOG_GAMMA) + HISTOGRAM_BIN_OFFSET;
  return valueMs < 0 ? -bin : bin;
}

/** The representative value of a bin, ms: within α of every value the bin holds. */
export function binValue(bin: number): number {
  if (bin === 0) return 0;
  return Math.sign(bin) * (1 - ALPHA) * Math.pow(GAMMA, Math.abs(bin) - HISTOGRAM_BIN_OFFSET);
}

function fromCounts(byBin: Map<number, number>): Histogram {
  const bins = [...byBin.keys()].sort((a, b) => a - b);
  return { scheme: HISTOGRAM_SCHEME, bins, counts: bins.map((b) => byBin.get(b) as number) };
}

/**
 * The histogram of `values` (NaN skipped), each multiplied by `toMs` first (1e-6 for ns). One pass
 * over an array the analysis already holds; no copy of it.
 */
export function histogramOf(values: ArrayLike<number>, toMs = 1): Histogram {
  const byBin = new Map<number, number>();
  let last = NaN;
  let run = 0;
  // Sorted input (what the analysis has) gives long runs of one bin: count them before the map.
  for (let i = 0; i < values.length; i++) {
    const v = (values[i] as number) * toMs;
    if (v !== v) continue;
    const bin = histogramBin(v);
    if (bin === last) {
      run++;
      continue;
    }
    if (run > 0) byBin.set(last, (byBin.get(last) ?? 0) + run);
    last = bin;
    run = 1;
  }
  if (run > 0) byBin.set(last, (byBin.get(last) ?? 0) + run);
  return fromCounts(byBin);
}

/** Bin-wise sum; throws when a histogram has another scheme (its bins mean other values). */
export function mergeHistograms(histograms: readonly Histogram[]): Histogram {
  const byBin = new Map<number, number>();
  for (const h of histograms) {
    if (h.scheme !== HISTOGRAM_SCHEME)
      throw new RangeError(`histogram scheme ${h.scheme} cannot be merged with ${HISTOGRAM_SCHEME}`);
    h.bins.forEach((bin, i) => byBin.set(bin, (byBin.get(bin) ?? 0) + (h.counts[i] as number)));
  }
  return fromCounts(byBin);
}

/** How many values the histogram holds. */
export function histogramCount(h: Histogram): number {
  let n = 0;
  for (const c of h.counts) n += c;
  return n;
}

/**
 * The p-th percentile (p in [0, 100]) from the bins, with describe.ts's definition (linear
 * interpolation between closest ranks) over the bins' values; NaN when empty.
 */
export function histogramPercentile(h: Histogram, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside [0, 100]`);
  const n = histogramCount(h);
  if (n === 0) return NaN;
  const rank = ((n - 1) * p) / 100;
  const lo = Math.floor(rank);
  const frac = rank - lo;
  // The bins holding ranks lo and lo + 1 (0-based), walking the cumulative counts once.
  let seen = 0;
  let low: number | null = null;
  for (let i = 0; i < h.bins.length; i++) {
    seen += h.counts[i] as number;
    const value = binValue(h.bins[i] as number);
    if (low === null && seen > lo) {
      low = value;
      if (frac === 0) return low;
    }
    if (low !== null && seen > lo + 1) return low + frac * (value - low);
  }
  return low as number;
}

/** p50, p90, p99 and p99.9 from the bins; null when empty. */
export function histogramPercentiles(h: Histogram): HistogramPercentiles | null {
  const count = histogramCount(h);
  if (count === 0) return null;
  return {
    count,
    p50: histogramPercentile(h, 50),
    p90: histogramPercentile(h, 90),
    p99: histogramPercentile(h, 99),
    p999: histogramPercentile(h, 99.9),
  };
}
