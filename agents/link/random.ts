/**
 * Seeded randomness for the jitter. A run's draws are reproducible: each direction of each connection
 * gets its own stream, derived from the configured seed, the connection's index and the direction.
 */

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
