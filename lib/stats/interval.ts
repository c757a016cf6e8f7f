/**
 * The confidence interval of a median when neighbouring values are dependent in time.
 *
 * Per-event latency deltas are not independent: a burst, or a network hiccup, moves every event of
 * the same second alike. An interval that resamples events one by one (the i.i.d. bootstrap in
 * bootstrap.ts) then believes it has n independent witnesses where it has far fewer, and is too
 * narrow: on simulated data with a per-second offset its 95% interval held the true median in well
 * under half of the data sets (`npm run bench -- statistics`).
 *
 * Method: the distribution-free order-statistic interval of the median (Woodruff, 1952), with the
 * variance of the count below the median estimated over blocks of receive time instead of assumed
 * binomial. For the sample median m, the count C = #{x < m} + ½·#{x = m} has mean n/2 under the
 * true median; its variance is the sum over independent blocks of the block's residual
 * R_k = C_k − (C/n)·n_k squared (the cluster-robust "batch means" estimator with unequal batches,
 * so a burst that fills one block and leaves another empty is weighted as it happened):
 * V = K/(K − 1)·Σ R_k². The interval is the sample's percentiles P(50 ∓ 100·h), with
 * h = max(t·√V, z·√(n/4))/n: t is Student's t on K − 1 degrees of freedom (batch means with a fixed
 * number of batches are asymptotically t_{K−1}: Schruben 1983; Ibragimov and Müller 2010), and the
 * second term is the classic sign-test interval of independent events, which the interval is never
 * narrower than: latency dependence is positive (bursts), so a block variance below n/4 is noise, or
 * an artefact such as strictly alternating values, and would claim more certainty than independent
 * events could give. It costs one O(n) pass over the values after the sort the percentiles need
 * anyway, and draws no random numbers: the same data give the same interval.
 *
 * Block rule: the receive-time span T is cut into K = min(10, ⌊T / 1 s⌋) blocks of equal time, at
 * least 2. Blocks are time, not event counts, because the dependence is in time; the rule keeps
 * them as long as it can afford (T/10: 3.5 s for the default 35 s run, 6 s for a minute, 6 min for
 * an hour, never under 1 s), because the covariance across a block edge is lost, a share of about
 * τ/L of the variance for correlation time τ and block length L: simulated offsets persisting over
 * a few seconds (bench/statistics.ts) are covered 95% of the time with 12 s blocks but 85% with
 * 1.75 s ones. No more than 10 blocks because more would only add degrees of freedom that the
 * short runs cannot pay for in block length: t₉ and the χ²₉ noise of V cost ~18% of width on
 * independent data (measured, within the 1.5× bound); a data-driven choice among block lengths
 * would add its own noise. Fewer than 2 non-empty blocks (one event, or all at one instant) give
 * no interval (null), never a zero-width interval from one event; with 2 or 3 blocks the t quantile
 * (12.7, 4.3) makes the interval about as wide as the data, which is what they are worth.
 */
import type { ConfidenceInterval } from './bootstrap';
import { percentileSorted } from './describe';

/** At most this many blocks of receive time. */
export const MAX_TIME_BLOCKS = 10;
/** Blocks are at least this long, ns (1 s), when the data span at least 2 of them. */
export const MIN_BLOCK_NS = 1e9;

export const INTERVAL_METHOD_ID = 'time-block-order-statistic';
export const INTERVAL_METHOD =
  'order-statistic (Woodruff) interval of the median over blocks of receive time: the sample percentiles 50 ∓ 100·max(t·√V, z·√(n/4))/n, where V = K/(K−1)·Σ(block residual)² is the variance of the count of deltas below the median over K = min(10, ⌊span/1 s⌋) (at least 2) equal blocks of baseline arrival time and t is Student’s t on K−1 degrees of freedom; never narrower than the independent-events interval; deterministic (no resampling, no seed)';

/** Which block of receive time each value falls in. */
export interface TimeBlocks extends TimeBlockRule {
  /** Block of each value, 0…count − 1, parallel to the times. */
  index: Uint8Array;
}

/**
 * Cuts the receive times (ns, any order, all finite) into the rule's blocks of equal time; null
 * when they cannot be cut into 2 (fewer than 2 values, or all at one instant).
 */
export function receiveTimeBlocks(timesNs: Float64Array): TimeBlocks | null {
  const n = timesNs.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = timesNs[i] as number;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const rule = timeBlockRule(n, min, max);
  if (rule === null) return null;
  const index = new Uint8Array(n);
  for (let i = 0; i < n; i++) index[i] = blockOf(rule, timesNs[i] as number);
  return { index, ...rule };
}

/** The block rule for `n` receive times from `minNs` to `maxNs`, without indexing them. */
export interface TimeBlockRule {
  count: number;
  /** Each block's length, ns. */
  blockNs: number;
  /** Last time − first time, ns. */
  spanNs: number;
  /** The first time, ns: where block 0 starts. */
  startNs: number;
}

/** The rule's blocks for `n` times spanning `minNs`…`maxNs`; null under 2 values or one instant. */
export function timeBlockRule(n: number, minNs: number, maxNs: number): TimeBlockRule | null {
  const span = maxNs - minNs;
  if (n < 2 || !(span > 0)) return null;
  const count = Math.max(2, Math.min(MAX_TIME_BLOCKS, Math.floor(span / MIN_BLOCK_NS)));
  return { count, blockNs: span / count, spanNs: span, startNs: minNs };
}

/** The block a receive time (within the rule's span) falls in. */
export function blockOf(rule: TimeBlockRule, timeNs: number): number {
  const b = (timeNs - rule.startNs) / rule.blockNs;
  return b >= rule.count ? rule.count - 1 : b | 0;
}

/** The interval and how it was made; `resamples` and `seed` are 0: nothing is resampled. */
export interface BlockInterval extends ConfidenceInterval {
  method_id: string;
  /** Blocks of receive time that held values (the t quantile has blocks − 1 degrees of freedom). */
  blocks: number;
  block_seconds: number;
  /**
   * The block variance of the count below the median over the binomial n/4 (before the floor):
   * how many events count as one independent witness. ≈ 1 for independent events.
   */
  design_effect: number;
}

/**
 * The interval of the median of `sorted` (ascending) when `values` are the same numbers in any
 * order and `blocks.index[i]` is the receive-time block of `values[i]`; null without blocks.
 */
export function blockMedianCI(
  sorted: Float64Array,
  values: Float64Array,
  blocks: TimeBlocks | null,
  options: { confidence?: number } = {},
): BlockInterval | null {
  return blockQuantileCI(sorted, values, blocks, 0.5, options);
}

/**
 * P(|T| < t) for Student's t with integer `df` degrees of freedom, in closed form (Abramowitz and
 * Stegun 26.7.3–4), so no special-function library is needed for the quantile.
 */
function tCentralProbability(t: number, df: number): number {
  const theta = Math.atan(t / Math.sqrt(df));
  const c2 = Math.cos(theta) ** 2;
  const s = Math.sin(theta);
  if (df % 2 === 1) {
    let sum = 0;
    let term = 1;
    for (let k = 3; k <= df; k += 2) {
      sum += term;
      term *= ((k - 1) / k) * c2;
    }
    return (2 / Math.PI) * (theta + (df > 1 ? s * Math.cos(theta) * sum : 0));
  }
  let sum = 0;
  let term = 1;
  for (let k = 2; k <= df; k += 2) {
    sum += term;
    term *= ((k - 1) / k) * c2;
  }
  return s * sum;
}

/**
 * The p-quantile (p in (0.5, 1)) of the standard normal: Acklam's rational approximation (relative
 * error under 1.2e-9, far below what an interval's edge needs).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0.5 && p < 1)) throw new RangeError(`normal quantile needs 0.5 < p < 1 (p ${p})`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const at = (k: number[], i: number): number => k[i] as number;
  if (p <= 0.97575) {
    const q = p - 0.5;
    const r = q * q;
    return (
      ((((((at(a, 0) * r + at(a, 1)) * r + at(a, 2)) * r + at(a, 3)) * r + at(a, 4)) * r + at(a, 5)) * q) /
      (((((at(b, 0) * r + at(b, 1)) * r + at(b, 2)) * r + at(b, 3)) * r + at(b, 4)) * r + 1)
    );
  }
  const q = Math.sqrt(-2 * Math.log(1 - p));
  return -(
    (((((at(c, 0) * q + at(c, 1)) * q + at(c, 2)) * q + at(c, 3)) * q + at(c, 4)) * q + at(c, 5)) /
    ((((at(d, 0) * q + at(d, 1)) * q + at(d, 2)) * q + at(d, 3)) * q + 1)
  );
}

/** The p-quantile (p in (0.5, 1)) of Student's t with `df` ≥ 1 integer degrees of freedom. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0.5 && p < 1) || !(df >= 1) || !Number.isInteger(df)) {
    throw new RangeError(`t quantile needs 0.5 < p < 1 and an integer df ≥ 1 (p ${p}, df ${df})`);
  }
  const target = 2 * p - 1;
  let lo = 0;
  let hi = 1;
  while (tCentralProbability(hi, df) < target) hi *= 2;
  // Bisection to 12 significant digits: the CDF is monotone in t, so this cannot miss.
  for (let k = 0; k < 200 && hi - lo > 1e-12 * hi; k++) {
    const mid = (lo + hi) / 2;
    if (tCentralProbability(mid, df) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The same interval for any quantile p in (0, 1) (the market-state table's p99): the count below the
 * sample quantile has mean n·p, its variance is estimated over the same blocks, and the floor is the
 * binomial n·p·(1 − p) of independent events; the interval is the percentiles 100·(p ∓ h).
 * {@link blockMedianCI} is its p = 0.5. Null without blocks.
 */
export function blockQuantileCI(
  sorted: Float64Array,
  values: Float64Array,
  blocks: TimeBlocks | null,
  p: number,
  options: { confidence?: number } = {},
): BlockInterval | null {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile needs 0 < p < 1 (p ${p})`);
  const { confidence = 0.95 } = options;
  const n = sorted.length;
  if (blocks === null || n === 0 || values.length !== n || blocks.index.length !== n) return null;
  const q = percentileSorted(sorted, 100 * p);
  const below = new Float64Array(blocks.count);
  const size = new Float64Array(blocks.count);
  for (let i = 0; i < n; i++) {
    const b = blocks.index[i] as number;
    const v = values[i] as number;
    size[b] = (size[b] as number) + 1;
    below[b] = (below[b] as number) + (v < q ? 1 : v === q ? 0.5 : 0);
  }
  return intervalFromBlockCounts(below, size, n, p, confidence, blocks.blockNs, (at) =>
    percentileSorted(sorted, at),
  );
}

/**
 * The interval from each block's count below the sample quantile (`below`, ties counted ½) and size:
 * the one formula of {@link blockQuantileCI}, whichever way the counts were taken.
 * `percentile(P)` is the sample's P-th percentile (P in [0, 100]).
 */
export function intervalFromBlockCounts(
  below: Float64Array,
  size: Float64Array,
  n: number,
  p: number,
  confidence: number,
  blockNs: number,
  percentile: (at: number) => number,
): BlockInterval | null {
  let total = 0;
  for (let b = 0; b < below.length; b++) total += below[b] as number;
  const share = total / n;
  let used = 0;
  let squares = 0;
  for (let b = 0; b < below.length; b++) {
    if (size[b] === 0) continue;
    used++;
    const residual = (below[b] as number) - share * (size[b] as number);
    squares += residual * residual;
  }
  if (used < 2) return null;
  const blockVariance = (used / (used - 1)) * squares;
  const binomial = n * p * (1 - p);
  const half =
    Math.max(
      studentTQuantile((1 + confidence) / 2, used - 1) * Math.sqrt(blockVariance),
      normalQuantile((1 + confidence) / 2) * Math.sqrt(binomial),
    ) / n;
  return {
    low: percentile(100 * Math.max(0, p - half)),
    high: percentile(100 * Math.min(1, p + half)),
    confidence,
    resamples: 0,
    seed: 0,
    method: INTERVAL_METHOD,
    method_id: INTERVAL_METHOD_ID,
    blocks: used,
    block_seconds: blockNs / 1e9,
    design_effect: blockVariance / binomial,
  };
}
