/**
 * The mergeable histogram (lib/stats/histogram.ts): every bin's value within the stated precision,
 * merging exact, and the percentiles of K merged runs within that precision of the percentiles of
 * their concatenated raw data (exact maths: the bounds are strict).
 */
import {
  binValue,
  HISTOGRAM_RELATIVE_ACCURACY,
  histogramBin,
  histogramCount,
  histogramOf,
  histogramPercentile,
  histogramSchema,
  mergeHistograms,
  percentileSorted,
} from '../lib/stats';
import { createRandom, gamma, normal, type Random } from '../lib/random';

const ALPHA = HISTOGRAM_RELATIVE_ACCURACY;
const PERCENTILES = [50, 99, 99.9];

/** Five runs unlike each other, ms: sizes, centres, spreads and tails all differ. */
function fiveRuns(random: Random): Float64Array[] {
  const make = (n: number, draw: () => number) => Float64Array.from({ length: n }, draw);
  return [
    // A calm run: 114 ms ± 0.5.
    make(20_000, () => 114 + 0.5 * normal(random)),
    // A route change: 2 ms slower, wider.
    make(5_000, () => 116 + 2 * normal(random)),
    // A heavy right tail (gamma): the p99.9 lives here.
    make(30_000, () => 113 + 4 * gamma(random, 0.6)),
    // A short bursty run: 1 % of events 20–80 ms late.
    make(1_000, () => 114.5 + 0.3 * normal(random) + (random() < 0.01 ? 20 + 60 * random() : 0)),
    // A long steady one on another clock: µs-level spread.
    make(50_000, () => 114.2 + 0.004 * normal(random)),
  ];
}

/** Paired deltas (backbone − baseline, ms): both signs, ties (0), sub-µs and tens of ms. */
function fiveDeltaRuns(random: Random): Float64Array[] {
  const make = (n: number, draw: () => number) => Float64Array.from({ length: n }, draw);
  return [
    make(20_000, () => -0.26 + 0.4 * normal(random)),
    make(8_000, () => (random() < 0.05 ? 0 : 1.5 + 0.8 * normal(random))),
    make(15_000, () => -3 - 6 * gamma(random, 0.5)),
    make(2_000, () => 0.0004 * normal(random)),
    make(40_000, () => -0.8 + 0.2 * normal(random) + (random() < 0.002 ? 50 * random() : 0)),
  ];
}

function concatSorted(runs: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(runs.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const run of runs) {
    all.set(run, at);
    at += run.length;
  }
  return all.sort();
}

/** The stated bound: α of the larger of the two samples the percentile interpolates between. */
function bound(sorted: Float64Array, p: number): number {
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const scale = Math.max(Math.abs(sorted[lo] as number), Math.abs(sorted[hi] as number));
  // 1e-12: float rounding of the bin's power; values stored as 0 (|v| < 1 ns) may be off by < 1 ns.
  return ALPHA * scale * (1 + 1e-12) + 1e-6;
}

describe('mergeable histogram', () => {
  it('puts every value in a bin whose value is within 0.5 % of it, and |v| < 1 ns in bin 0', () => {
    // prepare: magnitudes from 1 ns to 1 h, both signs
    const random = createRandom(11);
    const values = Array.from({ length: 20_000 }, () => {
      const magnitude = Math.pow(10, -6 + 12.6 * random());
      return random() < 0.5 ? -magnitude : magnitude;
    });

    // act
    const errors = values.map((v) => Math.abs(binValue(histogramBin(v)) - v) / Math.abs(v));

    // assert
    expect(Math.max(...errors)).toBeLessThanOrEqual(ALPHA * (1 + 1e-12));
    // The bound is reached (the bins are as wide as stated, not narrower by accident).
    expect(Math.max(...errors)).toBeGreaterThan(ALPHA * 0.99);
    expect([0, 4e-7, -9e-7].map(histogramBin)).toEqual([0, 0, 0]);
    expect(binValue(0)).toBe(0);
    // Bin order is value order, across the sign.
    const bins = [-2, -1e-3, -1e-6, 0, 1e-6, 1e-3, 2].map(histogramBin);
    expect([...bins].sort((a, b) => a - b)).toEqual(bins);
  });

  it('merges exactly: the merge of the parts is the histogram of the whole', () => {
    const runs = fiveDeltaRuns(createRandom(5));

    const merged = mergeHistograms(runs.map((r) => histogramOf(r)));

    expect(merged).toEqual(histogramOf(concatSorted(runs)));
    expect(histogramCount(merged)).toBe(runs.reduce((n, r) => n + r.length, 0));
    expect(histogramSchema.safeParse(merged).success).toBe(true);
  });

  it.each([
    ['one-way latencies', fiveRuns],
    ['paired deltas (signed, with ties)', fiveDeltaRuns],
  ])(
    'reproduces p50, p99 and p99.9 of five concatenated runs of %s within the stated precision',
    (_name, generate) => {
      // prepare: five runs of different distributions, each stored as its own histogram
      const runs = generate(createRandom(2026));
      const stored = runs.map((r) => histogramSchema.parse(JSON.parse(JSON.stringify(histogramOf(r)))));
      const raw = concatSorted(runs);

      // act
      const merged = mergeHistograms(stored);
      const figures = PERCENTILES.map((p) => ({
        p,
        merged: histogramPercentile(merged, p),
        raw: percentileSorted(raw, p),
        bound: bound(raw, p),
      }));

      // assert
      for (const f of figures)
        expect({ p: f.p, within: Math.abs(f.merged - f.raw) <= f.bound }).toEqual({ p: f.p, within: true });
      // The error this replaces: the median of the runs' own p99 is nowhere near the p99 of the data.
      const perRunP99 = runs
        .map((r) => percentileSorted(Float64Array.from(r).sort(), 99))
        .sort((a, b) => a - b);
      const medianOfP99 = percentileSorted(perRunP99, 50);
      const rawP99 = percentileSorted(raw, 99);
      expect(Math.abs(medianOfP99 - rawP99)).toBeGreaterThan(10 * bound(raw, 99));
    },
  );

  it('refuses to merge another scheme, and a stored histogram whose bins are out of order', () => {
    const h = histogramOf([1, 2, 3]);

    expect(() => mergeHistograms([h, { ...h, scheme: 'log-bins/0.01' }])).toThrow(/scheme log-bins\/0.01/);
    expect(histogramSchema.safeParse({ ...h, bins: [...h.bins].reverse() }).success).toBe(false);
    expect(histogramSchema.safeParse({ ...h, counts: [1] }).success).toBe(false);
    expect(histogramPercentile(histogramOf([]), 50)).toBeNaN();
  });
});
