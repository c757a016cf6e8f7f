/**
 * Does the 95% interval of the median delta keep its promise? Many simulated data sets with a
 * known true median, analysed by the interval the reports use (lib/stats/interval.ts) and, for
 * comparison, by the event-resampling (i.i.d.) bootstrap (lib/stats/bootstrap.ts). Target (issue
 * 10): 90–99% of the intervals contain the truth, on correlated and on independent data; on
 * independent data the interval is at most 1.5× as wide as the i.i.d. one. test/stats-coverage.test.ts
 * runs the same simulation, smaller.
 *
 * The correlated data are shaped like a market feed: events arrive at an uneven rate (one second in
 * ten is a burst of five times the events, packed into 100 ms), and every delta of one wall-clock
 * second shares that second's offset (a hiccup of the path), which persists into the next seconds
 * (AR(1), φ = 0.5), plus independent noise per event. The clock's phase is random, so block edges
 * never line up with the seconds. Offsets and noise are symmetric about 0 and independent of the
 * rates, so the true median of every delta is exactly `TRUE_MEDIAN_NS`. The independent data
 * have the same times and the same spread, with no shared offset.
 */
import { createRandom, normal, type Random } from '../lib/random';
import { blockMedianCI, bootstrapMedianCI, receiveTimeBlocks, sortValues, upperBound } from '../lib/stats';
import type { BenchFigure } from './figures';
// Hoisted: a global lookup per call is slow inside jest's vm context, and these run per event.
const { floor, min, sqrt } = Math;

export type DataKind = 'correlated' | 'independent';

/** The true median of every simulated delta, ns (backbone 0.3 ms earlier). */
export const TRUE_MEDIAN_NS = -300_000;
/** The simulated market (see above), one parameter each. */
const MARKET = {
  /** Share of the seconds that are bursts… */
  burstShare: 0.1,
  /** …of this many times an ordinary second's events (whose weight is uniform in 0.5–1.5)… */
  burstWeight: 5,
  /** …packed into their first this many ns. */
  burstNs: 100e6,
  /** Spread of the per-second offset, ns, and its persistence into the next second (AR(1) φ). */
  offsetSdNs: 1_000_000,
  offsetPersistence: 0.5,
  /** Spread of the per-event noise, ns. */
  noiseSdNs: 500_000,
} as const;

export interface SimulatedData {
  /** Per-event delta, ns, in event order. */
  deltasNs: Float64Array;
  /** Receive time of each event, ns. */
  timesNs: Float64Array;
}

/** One data set of `events` over `seconds` of receive time. */
export function simulateData(random: Random, kind: DataKind, events: number, seconds: number): SimulatedData {
  const { burstShare, burstWeight, burstNs, offsetSdNs, offsetPersistence, noiseSdNs } = MARKET;
  // Which second each event falls in: rates uneven, bursts five times the rest.
  const burst = new Uint8Array(seconds);
  const cumulative = new Float64Array(seconds);
  let total = 0;
  for (let s = 0; s < seconds; s++) {
    burst[s] = random() < burstShare ? 1 : 0;
    total += burst[s] === 1 ? burstWeight : 0.5 + random();
    cumulative[s] = total;
  }
  // The receive clock's phase: wall-clock seconds start at a random point of the first one.
  const phaseNs = random() * 1e9;
  const secondsTotal = seconds + 1;
  const offset = new Float64Array(secondsTotal);
  const innovation = sqrt(1 - offsetPersistence * offsetPersistence);
  let previous = normal(random);
  for (let s = 0; s < secondsTotal; s++) {
    previous = offsetPersistence * previous + innovation * normal(random);
    offset[s] = offsetSdNs * previous;
  }
  const deltasNs = new Float64Array(events);
  const timesNs = new Float64Array(events);
  const spread = sqrt(offsetSdNs * offsetSdNs + noiseSdNs * noiseSdNs);
  for (let i = 0; i < events; i++) {
    const second = min(seconds - 1, upperBound(cumulative, random() * total));
    const within = burst[second] === 1 ? random() * burstNs : random() * 1e9;
    const t = second * 1e9 + within;
    timesNs[i] = t;
    const wallSecond = floor((t + phaseNs) / 1e9);
    deltasNs[i] =
      kind === 'correlated'
        ? TRUE_MEDIAN_NS + (offset[wallSecond] as number) + noiseSdNs * normal(random)
        : TRUE_MEDIAN_NS + spread * normal(random);
  }
  return { deltasNs, timesNs };
}

export interface CoverageOptions {
  kind: DataKind;
  /** Data sets simulated. */
  sets: number;
  events: number;
  seconds: number;
  seed: number;
  /** Resamples of the i.i.d. bootstrap it is compared with. */
  resamples?: number;
}

export interface CoverageResult {
  kind: DataKind;
  sets: number;
  /** Share of the time-block 95% intervals that contain the true median. */
  coverage: number;
  /** The same for the i.i.d. (event-resampling) bootstrap. */
  iidCoverage: number;
  /** Time-block width over i.i.d. width: mean and 95th percentile over the data sets. */
  widthRatioMean: number;
  widthRatioP95: number;
  /** Mean blocks per data set and mean design effect (≈ 1 for independent events). */
  blocksMean: number;
  designEffectMean: number;
  /** Data sets that gave no interval (should be none). */
  missing: number;
}

/** Simulates `sets` data sets and measures both intervals' coverage and their widths. */
export function simulateCoverage(options: CoverageOptions): CoverageResult {
  const { kind, sets, events, seconds, seed, resamples = 2_000 } = options;
  const random = createRandom(seed);
  let covered = 0;
  let iidCovered = 0;
  let missing = 0;
  let blocks = 0;
  let designEffect = 0;
  const ratios: number[] = [];
  for (let k = 0; k < sets; k++) {
    const data = simulateData(random, kind, events, seconds);
    const sorted = sortValues(data.deltasNs.slice());
    const ci = blockMedianCI(sorted, data.deltasNs, receiveTimeBlocks(data.timesNs));
    const iid = bootstrapMedianCI(sorted, { seed: seed + k, resamples });
    if (ci === null || iid === null) {
      missing++;
      continue;
    }
    if (ci.low <= TRUE_MEDIAN_NS && TRUE_MEDIAN_NS <= ci.high) covered++;
    if (iid.low <= TRUE_MEDIAN_NS && TRUE_MEDIAN_NS <= iid.high) iidCovered++;
    blocks += ci.blocks;
    designEffect += ci.design_effect;
    ratios.push((ci.high - ci.low) / (iid.high - iid.low));
  }
  ratios.sort((a, b) => a - b);
  const done = sets - missing;
  return {
    kind,
    sets,
    coverage: covered / sets,
    iidCoverage: iidCovered / sets,
    widthRatioMean: ratios.reduce((a, b) => a + b, 0) / done,
    widthRatioP95: ratios[min(done - 1, floor(0.95 * done))] ?? NaN,
    blocksMean: blocks / done,
    designEffectMean: designEffect / done,
    missing,
  };
}

/** The cases the bench runs: a default-length run and a longer one, each both kinds of data. */
const CASES = [
  { label: '35s', events: 1_400, seconds: 35 },
  { label: '300s', events: 6_000, seconds: 300 },
];

/** Time of the interval alone (blocks and the one pass) on 10 million sorted values, ms. */
function timeAtScale(n: number): number {
  const random = createRandom(7);
  const data = simulateData(random, 'correlated', n, 3_600);
  const sorted = sortValues(data.deltasNs.slice());
  const started = process.hrtime.bigint();
  blockMedianCI(sorted, data.deltasNs, receiveTimeBlocks(data.timesNs));
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** `npm run bench -- statistics`: coverage and width over 1,000 data sets per case and kind. */
export async function benchStatistics(options: { sets?: number } = {}): Promise<BenchFigure[]> {
  const sets = options.sets ?? 1_000;
  const figures: BenchFigure[] = [];
  for (const c of CASES) {
    for (const kind of ['correlated', 'independent'] as const) {
      const r = simulateCoverage({ kind, sets, events: c.events, seconds: c.seconds, seed: 10 });
      const conditions = {
        sets,
        events: c.events,
        seconds: c.seconds,
        true_median_ms: TRUE_MEDIAN_NS / 1e6,
        blocks_mean: Number(r.blocksMean.toFixed(2)),
        design_effect_mean: Number(r.designEffectMean.toFixed(2)),
        no_interval: r.missing,
      };
      const inRange = r.coverage >= 0.9 && r.coverage <= 0.99;
      figures.push({
        name: `statistics.coverage.${kind}.${c.label}`,
        value: r.coverage * 100,
        unit: '%',
        conditions,
        target: { text: '90–99% of 95% intervals contain the true median', met: inRange },
      });
      figures.push({
        name: `statistics.iid_coverage.${kind}.${c.label}`,
        value: r.iidCoverage * 100,
        unit: '%',
        conditions: { ...conditions, method: 'event-resampling bootstrap (for comparison)' },
      });
      figures.push({
        name: `statistics.width_ratio.${kind}.${c.label}`,
        value: r.widthRatioMean,
        unit: '×iid',
        conditions: { ...conditions, p95: Number(r.widthRatioP95.toFixed(3)) },
        ...(kind === 'independent'
          ? { target: { text: '≤ 1.5× the event-resampling width', met: r.widthRatioMean <= 1.5 } }
          : {}),
      });
    }
  }
  figures.push({
    name: 'statistics.interval_time_10M',
    value: timeAtScale(10_000_000),
    unit: 'ms',
    conditions: { values: 10_000_000, note: 'blocks + one pass, after the sort the percentiles need' },
  });
  return figures;
}
