/**
 * The interval's promise, checked: over many simulated data sets with a known true median, 90–99%
 * of the 95% intervals contain it, with deltas correlated in time and with independent ones. The
 * simulation is bench/statistics.ts's (`npm run bench -- statistics` runs more and longer cases).
 */
import { simulateCoverage } from '../bench/statistics';

// 300 data sets of 3,000 events over 2 minutes of receive time, per kind: ~1 s each on a busy core.
const CASE = { sets: 300, events: 3_000, seconds: 120, seed: 42, resamples: 1_000 } as const;

describe('confidence interval coverage', () => {
  it('holds the true median in 90–99% of data sets whose deltas share offsets in time', () => {
    const result = simulateCoverage({ kind: 'correlated', ...CASE });

    expect(result.missing).toBe(0);
    expect(result.coverage).toBeGreaterThanOrEqual(0.9);
    expect(result.coverage).toBeLessThanOrEqual(0.99);
    // The same data fool the event-resampling bootstrap: the simulation detects the problem.
    expect(result.iidCoverage).toBeLessThan(0.6);
    expect(result.designEffectMean).toBeGreaterThan(5);
  });

  it('holds it in 90–99% of independent data sets, at most 1.5× as wide as event resampling', () => {
    const result = simulateCoverage({ kind: 'independent', ...CASE });

    expect(result.missing).toBe(0);
    expect(result.coverage).toBeGreaterThanOrEqual(0.9);
    expect(result.coverage).toBeLessThanOrEqual(0.99);
    expect(result.iidCoverage).toBeGreaterThanOrEqual(0.9);
    expect(result.widthRatioMean).toBeLessThanOrEqual(1.5);
    expect(result.widthRatioMean).toBeGreaterThanOrEqual(1);
  });
});
