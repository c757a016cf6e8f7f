/**
 * Seeded randomness for the jitter. A run's draws are reproducible: each direction of each connection
 * gets its own stream, derived from the configured seed, the connection's index and the direction.
 */

/** mulberry32: a tiny, fast 32-bit PRNG; uniform in [0, 1). Plenty for delay jitter (not for crypto). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Mixes a seed with further integers (murmur3's finalizer), so nearby inputs give unrelated streams. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = seed >>> 0;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * The extra delay, ms: exponentially distributed with mean = standard deviation = `jitterMs`.
 *
 * Why exponential: the extra must be non-negative (nothing arrives before the propagation delay),
 * one parameter then sets both its mean and its spread, and its long right tail looks like the
 * queueing delay that makes real jitter. Note that the link adds `jitterMs` on average on top of
 * `delayMs`; and because a chunk never overtakes an earlier one, chunks closer together than the
 * jitter see a little more delay and a little less spread than the draws.
 */
export function exponentialSampler(jitterMs: number, random: () => number): () => number {
  if (jitterMs <= 0) return () => 0;
  // 1 - u is in (0, 1], so the logarithm is finite.
  return () => -jitterMs * Math.log(1 - random());
}
