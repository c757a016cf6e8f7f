import {
  blockMedianCI,
  bootstrapMedianCI,
  normalQuantile,
  receiveTimeBlocks,
  studentTQuantile,
  describe as describeValues,
  describeSorted,
  meanAndStddev,
  percentileSorted,
  sortValues,
} from '../lib/stats';
import { createRandom } from '../lib/random';
import { boxMuller, mulberry32 } from './analysis-fixtures';

/** Hyndman & Fan type 7 in its 1-based textbook form: an independent reference for numpy's default. */
function referencePercentile(values: number[], p: number): number {
  const x = [...values].sort((a, b) => a - b);
  const position = 1 + ((x.length - 1) * p) / 100; // 1-based
  const j = Math.floor(position);
  const g = position - j;
  if (j >= x.length) return x[x.length - 1] as number;
  return (x[j - 1] as number) * (1 - g) + (x[j] as number) * g;
}

function naiveBootstrapMedians(sample: number[], resamples: number, seed: number): Float64Array {
  const uniform = mulberry32(seed);
  const n = sample.length;
  const out = new Float64Array(resamples);
  const draw = new Float64Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) draw[i] = sample[Math.floor(uniform() * n)] as number;
    draw.sort();
    out[b] =
      n % 2 === 1
        ? (draw[(n - 1) / 2] as number)
        : ((draw[n / 2 - 1] as number) + (draw[n / 2] as number)) / 2;
  }
  return out.sort();
}

describe('percentiles (linear interpolation between closest ranks, numpy default)', () => {
  it('matches hand-worked values on small samples', () => {
    const four = Float64Array.from([1, 2, 3, 4]);
    expect(percentileSorted(four, 50)).toBe(2.5);
    expect(percentileSorted(four, 25)).toBe(1.75);
    expect(percentileSorted(four, 90)).toBeCloseTo(3.7, 12);
    expect(percentileSorted(four, 95)).toBeCloseTo(3.85, 12);
    expect(percentileSorted(four, 99)).toBeCloseTo(3.97, 12);
    expect(percentileSorted(four, 99.9)).toBeCloseTo(3.997, 12);
    expect(percentileSorted(four, 0)).toBe(1);
    expect(percentileSorted(four, 100)).toBe(4);
    const five = Float64Array.from([15, 20, 35, 40, 50]);
    expect(percentileSorted(five, 40)).toBeCloseTo(29, 12); // numpy.percentile([15,20,35,40,50], 40)
    expect(percentileSorted(five, 90)).toBeCloseTo(46, 12);
    expect(percentileSorted(Float64Array.from([7]), 99)).toBe(7);
  });

  it('summarises a hand-worked sample: mean, population std dev, min, max', () => {
    const d = describeValues(Float64Array.from([50, 15, 40, 35, 20]));
    expect(d).toMatchObject({ count: 5, mean: 32, median: 35, min: 15, max: 50 });
    expect(d?.stddev).toBeCloseTo(Math.sqrt(166), 12);
  });

  it('skips NaN ("not applicable") values and gives null for no values', () => {
    expect(describeValues(Float64Array.from([NaN, 2, NaN, 4]))?.median).toBe(3);
    expect(describeValues(Float64Array.from([NaN]))).toBeNull();
  });

  it('agrees with a sort-based reference on generated data at every reported rank', () => {
    const uniform = mulberry32(7);
    const values = Array.from(
      { length: 20_001 },
      () => Math.round((100 + 20 * -Math.log(1 - uniform())) * 1000) / 1000,
    );
    const d = describeValues(Float64Array.from(values));
    const reference = (p: number) => referencePercentile(values, p);
    expect(d?.median).toBeCloseTo(reference(50), 9);
    expect(d?.p90).toBeCloseTo(reference(90), 9);
    expect(d?.p95).toBeCloseTo(reference(95), 9);
    expect(d?.p99).toBeCloseTo(reference(99), 9);
    expect(d?.p999).toBeCloseTo(reference(99.9), 9);
    expect(d?.min).toBe(Math.min(...values));
    expect(d?.max).toBe(Math.max(...values));
  });

  it('recovers a normal distribution: mean, std dev and quantiles against theory', () => {
    const normal = boxMuller(mulberry32(42));
    const n = 200_000;
    const mu = 114;
    const sigma = 4;
    const values = Float64Array.from({ length: n }, () => mu + sigma * normal());
    const d = describeValues(values);
    expect(Math.abs((d?.mean ?? 0) - mu)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    expect(Math.abs((d?.stddev ?? 0) / sigma - 1)).toBeLessThan(0.01);
    expect(Math.abs((d?.median ?? 0) - mu)).toBeLessThan(0.05 * sigma);
    expect(Math.abs((d?.p95 ?? 0) - (mu + 1.6448536 * sigma))).toBeLessThan(0.05 * sigma);
    expect(Math.abs((d?.p99 ?? 0) - (mu + 2.3263479 * sigma))).toBeLessThan(0.08 * sigma);
  });

  it('keeps a million equal values exact (compensated sums)', () => {
    const values = new Float64Array(1_000_000).fill(114.123);
    expect(meanAndStddev(values)).toEqual({ mean: 114.123, stddev: 0 });
  });
});

describe('sortValues', () => {
  it.each([
    [
      'ms with µs resolution, narrow (counting sort)',
      (u: () => number) => Math.round((100 + 50 * u()) * 1000) / 1000,
    ],
    [
      'ms with µs resolution, wide (radix sort)',
      (u: () => number) => Math.round((100 + 60_000 * u()) * 1000) / 1000,
    ],
    ['integer ns deltas, negative and positive', (u: () => number) => Math.round((u() - 0.5) * 2e8)],
    ['ms with ns resolution', (u: () => number) => Math.round(2e6 + 2e7 * u()) / 1e6],
    ['arbitrary doubles (native sort)', (u: () => number) => u() * 1e3],
  ])('sorts %s exactly as the native sort does', (_name, make) => {
    const uniform = mulberry32(3);
    const values = Float64Array.from({ length: 50_000 }, () => make(uniform));
    const expected = values.slice().sort();

    const sorted = sortValues(values);

    expect(Array.from(sorted)).toEqual(Array.from(expected));
  });
});

describe('bootstrapMedianCI', () => {
  const normal = boxMuller(mulberry32(11));
  const sample = Float64Array.from({ length: 2001 }, () => -1.8 + 0.5 * normal()).sort();

  it('gives the same interval for the same data and seed', () => {
    const a = bootstrapMedianCI(sample, { seed: 5 });
    const b = bootstrapMedianCI(sample.slice(), { seed: 5 });
    expect(a).toEqual(b);
  });

  it('gives a different interval for different data', () => {
    const shifted = sample.map((v) => v + 0.01);
    const a = bootstrapMedianCI(sample, { seed: 5 });
    const b = bootstrapMedianCI(shifted, { seed: 5 });
    expect(b?.low).not.toBe(a?.low);
    expect(b?.high).not.toBe(a?.high);
  });

  it('brackets the sample median with a width close to theory (1.96·1.2533·σ/√n each side)', () => {
    const ci = bootstrapMedianCI(sample, { seed: 1 });
    const median = describeSorted(sample)?.median ?? NaN;
    const halfWidth = (1.96 * 1.2533 * 0.5) / Math.sqrt(sample.length);
    expect(ci?.low).toBeLessThan(median);
    expect(ci?.high).toBeGreaterThan(median);
    expect(((ci?.high ?? 0) - (ci?.low ?? 0)) / 2 / halfWidth).toBeGreaterThan(0.75);
    expect(((ci?.high ?? 0) - (ci?.low ?? 0)) / 2 / halfWidth).toBeLessThan(1.3);
  });

  it.each([101, 100])('matches a naive resampling bootstrap (n = %i)', (n) => {
    const uniform = mulberry32(n);
    const values = Array.from({ length: n }, () => Math.round(uniform() * 1000) / 10);
    const sorted = Float64Array.from(values).sort();

    const ours = bootstrapMedianCI(sorted, { seed: 9, resamples: 10_000 });
    const naive = naiveBootstrapMedians(values, 10_000, 9);

    const step = (sorted[n - 1]! - sorted[0]!) / n; // about one rank
    expect(Math.abs((ours?.low ?? 0) - percentileSorted(naive, 2.5))).toBeLessThan(3 * step);
    expect(Math.abs((ours?.high ?? 0) - percentileSorted(naive, 97.5))).toBeLessThan(3 * step);
  });

  it('draws each resample median in O(1): a million values need no resampling pass', () => {
    const big = new Float64Array(1_000_000);
    for (let i = 0; i < big.length; i++) big[i] = i / 1e4;
    const ci = bootstrapMedianCI(big);
    expect(ci?.low).toBeLessThan(50);
    expect(ci?.high).toBeGreaterThan(49.99);
    // uniform on [0, 100): the median's standard error is 1 / (2·f·√n) = 0.05, so the width ≈ 2·1.96·0.05
    expect((ci?.high ?? 0) - (ci?.low ?? 0)).toBeCloseTo(0.196, 1);
  });

  it('uses a seeded generator: same seed, same stream', () => {
    const a = createRandom(3);
    const b = createRandom(3);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(createRandom(4)()).not.toBe(createRandom(3)());
  });
});

describe('blockMedianCI (time blocks)', () => {
  const S = 1e9;

  it('gives no interval for one event, or for events all at one instant', () => {
    const one = Float64Array.of(3.19);
    expect(receiveTimeBlocks(Float64Array.of(5 * S))).toBeNull();
    expect(blockMedianCI(one, one, receiveTimeBlocks(Float64Array.of(5 * S)))).toBeNull();
    expect(receiveTimeBlocks(Float64Array.of(5 * S, 5 * S, 5 * S))).toBeNull();
  });

  it('cuts receive time into min(10, ⌊span / 1 s⌋) equal blocks, at least 2', () => {
    const blocks = (spanS: number) =>
      receiveTimeBlocks(Float64Array.of(7 * S, 7 * S + spanS * S, 7 * S + spanS * S * 0.5));
    expect(blocks(35)).toMatchObject({ count: 10, blockNs: 3.5 * S });
    expect(blocks(4.5)).toMatchObject({ count: 4 });
    expect(blocks(0.2)).toMatchObject({ count: 2 });
    expect(Array.from(blocks(35)?.index ?? [])).toEqual([0, 9, 5]);
  });

  it('is the sign-test interval of independent events when blocks vary no more than that', () => {
    // prepare: every 1-s block holds the same 11 values, so the blocks add no variance
    const perBlock = [-5, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 5];
    const values = Float64Array.from({ length: 20 * 11 }, (_, i) => perBlock[i % 11] as number);
    const times = Float64Array.from({ length: values.length }, (_, i) => Math.floor(i / 11) * S + (i % 11));
    const sorted = sortValues(values.slice());

    const ci = blockMedianCI(sorted, values, receiveTimeBlocks(times));

    const h = (normalQuantile(0.975) * Math.sqrt(values.length / 4)) / values.length;
    expect(ci?.low).toBe(percentileSorted(sorted, 100 * (0.5 - h)));
    expect(ci?.high).toBe(percentileSorted(sorted, 100 * (0.5 + h)));
    expect(ci).toMatchObject({ resamples: 0, seed: 0, method_id: 'time-block-order-statistic', blocks: 10 });
    expect(ci?.design_effect).toBeCloseTo(0, 12);
  });

  it('widens when a stretch of time moves all its deltas together', () => {
    // prepare: the same values twice: rising with receive time (each block all below or all above
    // the median), and with the times shuffled (every block a fair mix)
    const n = 400;
    const values = Float64Array.from({ length: n }, (_, i) => i / n);
    const times = Float64Array.from({ length: n }, (_, i) => (i / n) * 40 * S);
    const shuffledTimes = Float64Array.from({ length: n }, (_, i) => (((i * 7919) % n) / n) * 40 * S);
    const sorted = sortValues(values.slice());

    const dependent = blockMedianCI(sorted, values, receiveTimeBlocks(times));
    const independent = blockMedianCI(sorted, values, receiveTimeBlocks(shuffledTimes));

    const width = (ci: typeof dependent) => (ci?.high ?? NaN) - (ci?.low ?? NaN);
    expect(dependent?.design_effect).toBeGreaterThan(40);
    expect(independent?.design_effect).toBeLessThan(3);
    expect(width(dependent)).toBeGreaterThan(5 * width(independent));
  });

  it('spans the data from two events, never a zero-width interval', () => {
    const values = Float64Array.of(2, -1);
    const ci = blockMedianCI(Float64Array.of(-1, 2), values, receiveTimeBlocks(Float64Array.of(0, 3 * S)));
    expect(ci).toMatchObject({ low: -1, high: 2, blocks: 2 });
  });

  it('gives the same interval for the same data', () => {
    const uniform = mulberry32(4);
    const values = Float64Array.from({ length: 500 }, () => uniform());
    const times = Float64Array.from({ length: 500 }, (_, i) => i * 0.1 * S);
    const sorted = sortValues(values.slice());
    expect(blockMedianCI(sorted, values, receiveTimeBlocks(times))).toEqual(
      blockMedianCI(sorted.slice(), values.slice(), receiveTimeBlocks(times.slice())),
    );
  });

  it("uses Student's t and normal quantiles from the tables", () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.3027, 3);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.2622, 3);
    expect(studentTQuantile(0.995, 19)).toBeCloseTo(2.8609, 3);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 5);
  });
});
