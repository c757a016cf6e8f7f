/**
 * The sorted-runs figures (lib/stats/sorted-runs.ts) are the same numbers as the one-sorted-copy
 * figures they replace in the market-state table: percentiles of the union and the time-block
 * interval, on data with ties, empty blocks and blocks of very different sizes.
 */
import {
  blockQuantileCI,
  blockQuantileCIOfRuns,
  kthOfRuns,
  percentileOfRuns,
  percentileSorted,
  receiveTimeBlocks,
  sortValues,
} from '../lib/stats';
import { createRandom } from '../lib/random';

/** Values with their receive times; `ties` rounds values so that many repeat. */
function dataSet(seed: number, n: number, ties: boolean): { values: Float64Array; times: Float64Array } {
  const random = createRandom(seed);
  const values = new Float64Array(n);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // A burst in the middle third: most events there, and larger values.
    const inBurst = random() < 0.6;
    times[i] = inBurst ? 4e9 + random() * 2e9 : random() * 12e9;
    const v = 100 + (inBurst ? 5 : 0) + -Math.log(1 - random()) * 3;
    values[i] = ties ? Math.round(v) : v;
  }
  return { values, times };
}

/** Each block's values, sorted: what the market-state table builds. */
function runsOf(values: Float64Array, index: Uint8Array, count: number): Float64Array[] {
  return Array.from({ length: count }, (_, b) =>
    sortValues(Float64Array.from(values.filter((_, i) => index[i] === b))),
  );
}

describe('figures over sorted runs', () => {
  test.each([
    { seed: 1, n: 5_000, ties: false },
    { seed: 2, n: 5_000, ties: true },
    { seed: 3, n: 37, ties: true },
  ])('match one sorted copy (seed $seed, n $n, ties $ties)', ({ seed, n, ties }) => {
    const { values, times } = dataSet(seed, n, ties);
    const blocks = receiveTimeBlocks(times);
    if (blocks === null) throw new Error('no blocks');
    const sorted = sortValues(values.slice());
    const runs = runsOf(values, blocks.index, blocks.count);
    for (let k = 0; k < n; k += Math.max(1, Math.floor(n / 97))) expect(kthOfRuns(runs, k)).toBe(sorted[k]);
    expect(kthOfRuns(runs, n - 1)).toBe(sorted[n - 1]);
    for (const p of [0, 1, 10, 50, 90, 99, 99.9, 100])
      expect(percentileOfRuns(runs, p)).toBe(percentileSorted(sorted, p));
    for (const p of [0.5, 0.99]) {
      expect(blockQuantileCIOfRuns(runs, blocks.blockNs, p)).toEqual(
        blockQuantileCI(sorted, values, blocks, p),
      );
    }
  });

  test('empty blocks count as absent, and one non-empty block gives no interval', () => {
    const runs = [Float64Array.of(1, 2, 3), new Float64Array(0), Float64Array.of(2, 5)];
    expect(percentileOfRuns(runs, 50)).toBe(2);
    expect(kthOfRuns(runs, 4)).toBe(5);
    expect(blockQuantileCIOfRuns(runs, 1e9, 0.5)?.blocks).toBe(2);
    expect(blockQuantileCIOfRuns([Float64Array.of(1, 2, 3), new Float64Array(0)], 1e9, 0.5)).toBeNull();
    expect(percentileOfRuns([new Float64Array(0)], 50)).toBeNaN();
    expect(() => kthOfRuns(runs, 5)).toThrow(RangeError);
  });
});
