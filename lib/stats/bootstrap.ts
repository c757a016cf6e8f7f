/**
 * The 95% bootstrap confidence interval of a median, fast enough for 10 million values.
 *
 * A naive bootstrap draws B resamples of n values each and takes each one's median: O(B·n), far too
 * slow at n = 10⁷. We draw each resample's median directly instead, from the same distribution:
 * a resample is n draws F⁻¹(Uᵢ) from the empirical distribution F (Uᵢ uniform), F⁻¹ is monotone, so
 * the resample's k-th smallest value is F⁻¹(U₍ₖ₎) with U₍ₖ₎ the k-th order statistic of n uniforms,
 * which is Beta(k, n − k + 1). F⁻¹(u) = x[⌈n·u⌉ − 1] on the sorted sample. For even n the median
 * also needs U₍ₖ₊₁₎ = U₍ₖ₎ + (1 − U₍ₖ₎)·(1 − V^{1/(n−k)}), the smallest of the n − k uniforms above
 * U₍ₖ₎ (V uniform). So each resample costs O(1) after the one sort the percentiles need anyway, every
 * sample takes part (no subsampling, so the interval's width reflects all n), and the result is
 * exactly the ordinary bootstrap's, in distribution. The interval is the percentile interval: the
 * (1 − c)/2 and (1 + c)/2 percentiles of the B medians, with the module's percentile definition.
 * The generator is seeded, so the same data and seed give the same interval.
 */
import { percentileSorted } from './describe';
import { beta, createRandom, type Random } from '../random';
// Hoisted: a global lookup per call is slow inside jest's vm context (~0.2 µs), and these run per resample.
const { ceil, min, max, pow } = Math;

export const DEFAULT_BOOTSTRAP_RESAMPLES = 10_000;
export const DEFAULT_BOOTSTRAP_SEED = 20240808;

export interface ConfidenceInterval {
  low: number;
  high: number;
  confidence: number;
  resamples: number;
  seed: number;
  method: string;
}

export const BOOTSTRAP_METHOD =
  'percentile bootstrap of the median; each resample median drawn exactly through the order-statistic identity (Beta-distributed ranks on the sorted sample), seeded PRNG';

function valueAt(sorted: Float64Array, u: number): number {
  const n = sorted.length;
  const index = min(n - 1, max(0, ceil(n * u) - 1));
  return sorted[index] as number;
}

/** One bootstrap resample's median, drawn in O(1) from the sorted sample. */
export function resampleMedian(sorted: Float64Array, random: Random): number {
  const n = sorted.length;
  if (n === 1) return sorted[0] as number;
  if (n % 2 === 1) {
    const k = (n + 1) / 2;
    return valueAt(sorted, beta(random, k, n - k + 1));
  }
  const k = n / 2;
  const uk = beta(random, k, n - k + 1);
  const next = uk + (1 - uk) * (1 - pow(random(), 1 / (n - k)));
  return (valueAt(sorted, uk) + valueAt(sorted, next)) / 2;
}

/** The bootstrap confidence interval of the median of values sorted ascending; null when empty. */
export function bootstrapMedianCI(
  sorted: Float64Array,
  options: { seed?: number; resamples?: number; confidence?: number } = {},
): ConfidenceInterval | null {
  const {
    seed = DEFAULT_BOOTSTRAP_SEED,
    resamples = DEFAULT_BOOTSTRAP_RESAMPLES,
    confidence = 0.95,
  } = options;
  if (sorted.length === 0) return null;
  const random = createRandom(seed);
  const medians = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) medians[b] = resampleMedian(sorted, random);
  medians.sort();
  const tail = ((1 - confidence) / 2) * 100;
  return {
    low: percentileSorted(medians, tail),
    high: percentileSorted(medians, 100 - tail),
    confidence,
    resamples,
    seed,
    method: BOOTSTRAP_METHOD,
  };
}
