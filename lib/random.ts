/**
 * Seeded randomness, the one home for it: the generators and the distributions that the simulators
 * (the exchange's synthetic market, the link's jitter), the statistics (the bootstrap) and the bench
 * draw from. The same seed gives the same sequence, and these sequences are pinned by
 * test/random.test.ts: the synthetic market's events, the link's delays and the reports' intervals
 * all follow from them, so changing any function here changes what a seed means. Not for cryptography.
 */

// Hoisted: a global lookup per call is slow inside jest's vm context (~0.2 µs), and these run per draw.
const { imul, log, sqrt, pow, cos, PI } = Math;

/** A source of uniform doubles in [0, 1). */
export type Random = () => number;

// --- Generators ---------------------------------------------------------------------------------

/**
 * mulberry32: a tiny, fast 32-bit generator, 32 random bits per double. Plenty for the simulators
 * (delay jitter, a synthetic market).
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * xoshiro128** seeded from a 32-bit integer through splitmix32; each double takes 53 random bits
 * (two draws). The statistics use it: a bootstrap of millions of draws needs the full resolution.
 */
export function createRandom(seed: number): Random {
  let x = seed >>> 0;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const next32 = (): number => {
    const result = imul(rotl(imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  return () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
}

function rotl(v: number, k: number): number {
  return (v << k) | (v >>> (32 - k));
}

// --- Seed mixers --------------------------------------------------------------------------------

/** Mixes a seed with further integers (murmur3's finalizer), so nearby inputs give unrelated streams. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = seed >>> 0;
  for (const part of parts) {
    h = imul(h ^ (part >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
    h = imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Mixes a seed with a string (FNV-1a), so each name (a symbol) gets its own stream. */
export function deriveSeedFromString(seed: number, text: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < text.length; i += 1) hash = imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

// --- Distributions ------------------------------------------------------------------------------

/** An exponential variate with this mean (one draw; 1 - u is in (0, 1], so the logarithm is finite). */
export function exponential(random: Random, mean: number): number {
  return -log(1 - random()) * mean;
}

/** A sampler of exponential variates with this mean; a mean of 0 or less always gives 0. */
export function exponentialSampler(mean: number, random: Random): () => number {
  if (mean <= 0) return () => 0;
  return () => exponential(random, mean);
}

/**
 * A standard normal variate by Marsaglia's polar method (the statistics and the bench). Two normal
 * methods live here because each one's draws are pinned: see {@link normalBoxMuller}.
 */
export function normal(random: Random): number {
  for (;;) {
    const u = 2 * random() - 1;
    const v = 2 * random() - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) return u * sqrt((-2 * log(s)) / s);
  }
}

/**
 * A standard normal variate by Box–Muller, two draws per variate (the second variate of the pair is
 * not kept). The synthetic market uses it: its seeds' event sequences depend on exactly these draws.
 */
export function normalBoxMuller(random: Random): number {
  const u = 1 - random();
  const v = random();
  return sqrt(-2 * log(u)) * cos(2 * PI * v);
}

/** A Gamma(shape, 1) variate (Marsaglia and Tsang, 2000; boosted for shape < 1). */
export function gamma(random: Random, shape: number): number {
  if (shape < 1) {
    const u = random();
    return gamma(random, shape + 1) * pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (log(u) < 0.5 * x * x + d * (1 - v + log(v))) return d * v;
  }
}

/** A Beta(a, b) variate. */
export function beta(random: Random, a: number, b: number): number {
  const x = gamma(random, a);
  const y = gamma(random, b);
  return x / (x + y);
}
