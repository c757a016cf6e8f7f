/**
 * Exact statistics over all samples of a path.
 *
 * Percentile definition (numpy's default, `method='linear'`, also R type 7 and Excel PERCENTILE.INC):
 * sort the n values ascending as x[0] ≤ … ≤ x[n−1]; for p in [0, 100] let h = (n − 1)·p/100; then
 * P(p) = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]) — linear interpolation between the two closest
 * ranks. The median is P(50). Standard deviation ("jitter") is the population standard deviation
 * (divide by n, numpy's `np.std` default, Python's `statistics.pstdev`).
 *
 * Percentiles are always computed over every sample of a path: a percentile of chunks (or of agents)
 * cannot be recovered from the chunks' percentiles, so they are never averaged.
 */

/** The summary of one set of values. Every field is in the unit of the values. */
export interface Distribution {
  count: number;
  mean: number;
  median: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  min: number;
  max: number;
  /** Population standard deviation (÷ n). */
  stddev: number;
}

/** Text for reports: how percentiles and the standard deviation are defined. */
export const PERCENTILE_DEFINITION =
  'Percentiles use linear interpolation between closest ranks (numpy default, R type 7): for n sorted values x[0..n-1] and p in [0,100], h = (n-1)*p/100 and P = x[floor(h)] + (h - floor(h))*(x[floor(h)+1] - x[floor(h)]). The median is P(50). Computed over all samples of a path, never averaged across chunks or agents.';
export const STDDEV_DEFINITION =
  'Jitter is the population standard deviation of the latencies (divided by n, as numpy.std and statistics.pstdev).';

/** The p-th percentile (p in [0, 100]) of values sorted ascending, by linear interpolation. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside [0, 100]`);
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  if (lo >= n - 1) return sorted[n - 1] as number;
  const b = sorted[lo + 1] as number;
  const frac = h - lo;
  return frac === 0 ? a : a + frac * (b - a);
}

/**
 * Mean and population standard deviation, in two passes with compensated (Neumaier) summation, so
 * that 10 million values sum without drifting.
 */
export function meanAndStddev(values: ArrayLike<number>): { mean: number; stddev: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, stddev: NaN };
  let sum = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i] as number;
    const t = sum + x;
    c += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  const mean = (sum + c) / n;
  let sq = 0;
  let c2 = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    const x = d * d;
    const t = sq + x;
    c2 += sq >= x ? sq - t + x : x - t + sq;
    sq = t;
  }
  return { mean, stddev: Math.sqrt((sq + c2) / n) };
}

/** Summarises values already sorted ascending (no NaN); null when there are none. */
export function describeSorted(sorted: Float64Array): Distribution | null {
  const n = sorted.length;
  if (n === 0) return null;
  const { mean, stddev } = meanAndStddev(sorted);
  return {
    count: n,
    mean,
    median: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p95: percentileSorted(sorted, 95),
    p99: percentileSorted(sorted, 99),
    p999: percentileSorted(sorted, 99.9),
    min: sorted[0] as number,
    max: sorted[n - 1] as number,
    stddev,
  };
}

/** The counting sort's largest bucket range (a 32 MB count array). */
const MAX_COUNTING_BUCKETS = 1 << 23;
/** The radix sort's widest digit: 8,192 counts (32 KB) stay in the core's cache. */
const MAX_RADIX_BITS = 13;

/**
 * Sorts `out` if every value is an exact multiple of 1/`scale` (ms with µs resolution as the CSVs
 * have, or ns) spanning fewer than 2³² steps: a counting sort for small spans, else an LSD radix
 * sort on the 32-bit step index — O(n), several times faster than the comparison sort at 10⁷
 * values. Each value is rebuilt as k/scale, the same double its decimal text parses to, so the
 * result is exact. False (nothing changed) when it does not apply.
 */
function integerSort(out: Float64Array, scale: number): boolean {
  const n = out.length;
  let kMin = Infinity;
  let kMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = out[i] as number;
    const k = Math.round(v * scale);
    if (k / scale !== v) return false;
    if (k < kMin) kMin = k;
    if (k > kMax) kMax = k;
  }
  const range = kMax - kMin + 1;
  if (!(range <= 2 ** 32)) return false;
  if (range <= MAX_COUNTING_BUCKETS) {
    const counts = new Uint32Array(range);
    for (let i = 0; i < n; i++) {
      const b = Math.round((out[i] as number) * scale) - kMin;
      counts[b] = (counts[b] as number) + 1;
    }
    let j = 0;
    for (let b = 0; b < range; b++) {
      const c = counts[b] as number;
      if (c === 0) continue;
      const v = (b + kMin) / scale;
      for (let r = 0; r < c; r++) out[j++] = v;
    }
    return true;
  }
  let keys = new Uint32Array(n);
  let spare = new Uint32Array(n);
  for (let i = 0; i < n; i++) keys[i] = Math.round((out[i] as number) * scale) - kMin;
  // As few passes as the span needs (2 up to 26 bits, e.g. 67 ms in ns; else 3), digits of equal
  // width, and every digit's counts taken in one read of the keys before the first pass.
  const bits = 32 - Math.clz32(range - 1);
  const passes = Math.ceil(bits / MAX_RADIX_BITS);
  const digitBits = Math.ceil(bits / passes);
  const size = 1 << digitBits;
  const mask = size - 1;
  const counts = new Uint32Array(size * passes);
  for (let i = 0; i < n; i++) {
    const key = keys[i] as number;
    for (let p = 0, shift = 0; p < passes; p++, shift += digitBits) {
      const d = p * size + ((key >>> shift) & mask);
      counts[d] = (counts[d] as number) + 1;
    }
  }
  for (let p = 0; p < passes; p++) {
    const shift = p * digitBits;
    const base = p * size;
    // A digit every key shares moves nothing: skip its pass.
    if (counts[base + (((keys[0] as number) >>> shift) & mask)] === n) continue;
    let total = 0;
    for (let d = base; d < base + size; d++) {
      const c = counts[d] as number;
      counts[d] = total;
      total += c;
    }
    for (let i = 0; i < n; i++) {
      const key = keys[i] as number;
      const d = base + ((key >>> shift) & mask);
      const at = counts[d] as number;
      spare[at] = key;
      counts[d] = at + 1;
    }
    const swap = keys;
    keys = spare;
    spare = swap;
  }
  for (let i = 0; i < n; i++) out[i] = ((keys[i] as number) + kMin) / scale;
  return true;
}

/** Sorts an array of finite values ascending, in place, exactly (integer sorts when they apply). */
export function sortValues(out: Float64Array): Float64Array {
  // Whole numbers (ns) first, at their own span: a fraction in the first values rules it out at once.
  if (out.length > 1000 && (integerSort(out, 1) || integerSort(out, 1000) || integerSort(out, 1e6))) {
    return out;
  }
  return out.sort();
}

/**
 * The finite values (NaN marks "not applicable") sorted ascending: a sorted copy, or with
 * `inPlace` the input itself compacted and sorted (a subarray of it), which saves a copy of a
 * 10-million-value column.
 */
export function sortedFinite(values: Float64Array, options: { inPlace?: boolean } = {}): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) n++;
  let out: Float64Array;
  if (options.inPlace === true) {
    if (n < values.length) {
      let j = 0;
      for (let i = 0; i < values.length; i++) {
        const v = values[i] as number;
        if (v === v) values[j++] = v;
      }
    }
    out = values.subarray(0, n);
  } else if (n === values.length) {
    out = values.slice();
  } else {
    out = new Float64Array(n);
    let j = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v === v) out[j++] = v;
    }
  }
  return sortValues(out);
}

/** Summarises values in any order, skipping NaN; null when none remain. */
export function describe(values: Float64Array): Distribution | null {
  return describeSorted(sortedFinite(values));
}

/** Multiplies every field but `count` by `factor` (e.g. ns → ms). */
export function scaleDistribution(d: Distribution, factor: number): Distribution {
  return {
    count: d.count,
    mean: d.mean * factor,
    median: d.median * factor,
    p90: d.p90 * factor,
    p95: d.p95 * factor,
    p99: d.p99 * factor,
    p999: d.p999 * factor,
    min: d.min * factor,
    max: d.max * factor,
    stddev: d.stddev * factor,
  };
}

/** Index of the first element of `sorted` greater than `x` (upper bound). */
export function upperBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of `sorted` not less than `x` (lower bound). */
export function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
