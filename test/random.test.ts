import { createHash } from 'node:crypto';
import { syntheticSourceSchema } from '../agents/exchange/config';
import { SyntheticMarket } from '../agents/exchange/synthetic';
import {
  beta,
  createRandom,
  deriveSeed,
  deriveSeedFromString,
  exponential,
  exponentialSampler,
  gamma,
  mulberry32,
  normal,
  normalBoxMuller,
} from '../lib/random';

// Pinned draws: the same seed must give the same sequence after any refactoring, because the
// synthetic market's events, the link's jitter, the bootstrap's intervals and the bench's figures
// all follow from these sequences. The values were taken from the generators before they were merged.
const take = (n: number, draw: () => number): number[] => Array.from({ length: n }, draw);

describe('seeded randomness', () => {
  it('mulberry32 gives the pinned sequence', () => {
    expect(take(3, mulberry32(12345))).toEqual([0.9797282677609473, 0.3067522644996643, 0.484205421525985]);
  });

  it('deriveSeed mixes the pinned seeds', () => {
    expect([deriveSeed(7), deriveSeed(7, 0, 0), deriveSeed(7, 0, 1), deriveSeed(20261129, 3, 1)]).toEqual([
      7, 2612717644, 2921146646, 3927469329,
    ]);
  });

  it('createRandom (xoshiro128**) gives the pinned sequence', () => {
    expect(take(3, createRandom(3))).toEqual([0.7191480967694305, 0.3831162377810907, 0.583833600656058]);
  });

  it('the distributions give the pinned draws', () => {
    const random = createRandom(11);
    expect(take(3, () => normal(random))).toEqual([
      -0.05344502708994456, -1.1757326044673497, 1.042674752575753,
    ]);
    const shapes = createRandom(5);
    expect([gamma(shapes, 0.6), gamma(shapes, 2.5), gamma(shapes, 40)]).toEqual([
      4.4764292456682995, 4.243395548439063, 40.23323902885838,
    ]);
    const fractions = createRandom(2026);
    expect([beta(fractions, 3, 98), beta(fractions, 50, 51)]).toEqual([
      0.00817967761827802, 0.5188107115769716,
    ]);
  });

  it("the link's exponential jitter gives the pinned draws", () => {
    expect(take(3, exponentialSampler(4, mulberry32(deriveSeed(7, 0, 0))))).toEqual([
      0.18382475897896533, 4.652994840045547, 3.6753446587975303,
    ]);
  });

  it("the synthetic market's seed mixer, exponential and Box–Muller give the pinned draws", () => {
    // Pinned from the market's private helpers before they moved to lib/random.ts.
    expect(deriveSeedFromString(42, 'btcusdt')).toBe(1956804678);
    const random = mulberry32(99);
    expect([
      exponential(random, 10),
      exponential(random, 0.5),
      normalBoxMuller(random),
      normalBoxMuller(random),
    ]).toEqual([3.017347672084867, 0.8169236192310921, -0.4575481191635872, 0.019655777997078513]);
  });

  it('the synthetic market gives the pinned events', () => {
    const market = new SyntheticMarket(
      syntheticSourceSchema.parse({
        kind: 'synthetic',
        symbols: ['btcusdt', 'dogeusdt'],
        seed: 42,
        tradesPerSecond: 50,
        burstSize: 300,
        burstIntervalMs: 2000,
        bookTickerPerSecond: 20,
      }),
    );
    const hash = createHash('sha256');
    for (let i = 0; i < 2000; i += 1) hash.update(JSON.stringify(market.next()));
    expect(hash.digest('hex')).toBe('bec7a36dd898301dfd3cb75b93e8993505b66658bda0781619d39b274f0a258b');
  });
});
