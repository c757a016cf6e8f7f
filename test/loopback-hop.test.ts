/**
 * The lab's own hop (lib/loopback-hop.ts): the probe a local run takes before its agents start, and
 * the compensation each link gets from it. No timing bounds: what a hop costs depends on the machine
 * and its load (its figure belongs to `npm run bench -- truth`); these check the logic.
 */
import { parseLocalRunOptions } from '../lib/experiment';
import { labHopsSchema, linkCompensationMs, measureLoopbackHop } from '../lib/loopback-hop';

describe('link compensation', () => {
  it('is the two hops a link sits between, to the µs', () => {
    expect(linkCompensationMs({ medianUs: 131.44 })).toBe(0.263);
    expect(linkCompensationMs({ medianUs: 0.2 })).toBe(0);
  });

  it("takes the hop's mean where measured (a skewed cost moves a jittered median by its mean), else its median", () => {
    expect(linkCompensationMs({ medianUs: 120, meanUs: 141.5 })).toBe(0.283);
    expect(linkCompensationMs({ medianUs: 120 })).toBe(0.24);
  });

  it('is 0 for a hop that was not measured', () => {
    expect(linkCompensationMs({ medianUs: NaN })).toBe(0);
    expect(linkCompensationMs({ medianUs: -5 })).toBe(0);
  });

  it('is on by default and off with hopCompensation false (--no-hop-compensation)', () => {
    expect(parseLocalRunOptions({}).hopCompensation).toBe(true);
    expect(parseLocalRunOptions({ hopCompensation: false }).hopCompensation).toBe(false);
  });
});

describe('loopback hop probe', () => {
  it('measures half the round trip to an echo process, every round trip counted', async () => {
    const hop = await measureLoopbackHop({ messages: 20, intervalMs: 1 });

    expect(hop.samples).toBe(20);
    expect(hop.medianUs).toBeGreaterThan(0);
    expect(hop.p90Us).toBeGreaterThanOrEqual(hop.medianUs);
    // The mean of the fastest 95 % (what the links compensate) was measured too.
    expect(Number.isFinite(hop.meanUs) && (hop.meanUs as number) > 0).toBe(true);
    // What a run writes to run.json `lab` reads back through the same schema.
    const written = { compensated: true, hop, linkCompensationMs: linkCompensationMs(hop) };
    expect(labHopsSchema.parse(JSON.parse(JSON.stringify(written)))).toEqual(written);
  }, 20_000);

  it('gives up after its timeout instead of holding the run', async () => {
    // 1,000 round trips 10 ms apart cannot finish in 300 ms.
    await expect(measureLoopbackHop({ messages: 1_000, intervalMs: 10, timeoutMs: 300 })).rejects.toThrow(
      /no loopback hop measured in 300 ms/,
    );
  }, 20_000);
});
