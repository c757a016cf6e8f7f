/**
 * What every benchmark worker shares. Workers are the processes the benchmarks start, each pinned to
 * one core: `node dist/bench.js --worker <name> <json>` (the table in ./index.ts). A worker prints
 * one JSON line when ready (`{"ready":true,…}`) and one with its result, then exits.
 */

export type WorkerArgs = Record<string, unknown>;

export function print(value: unknown, then?: () => void): void {
  process.stdout.write(`${JSON.stringify(value)}\n`, then);
}

/**
 * A Binance-shaped raw-stream trade (140 bytes; the combined-stream wrapper would add ~30) whose E
 * is the send instant in µs.
 */
export function benchTrade(id: number, eventTimeUs: number): string {
  return `{"e":"trade","E":${eventTimeUs},"s":"BTCUSDT","t":${id},"p":"61837.63000000","q":"0.02000000","T":${eventTimeUs},"m":true,"M":true}`;
}

/** The signal that tells a worker started with `waitSignal` to begin sending. */
export const START_SIGNAL = 'SIGUSR2';

/** Resolves on {@link START_SIGNAL} when `wait` is set, at once otherwise. */
export function startSignal(wait: boolean): Promise<void> {
  if (!wait) return Promise.resolve();
  return new Promise((resolve) => process.once(START_SIGNAL, () => resolve()));
}

/** A worker the benchmark lost track of (killed without its children) leaves by itself. */
export function exitAfter(ms: number): void {
  setTimeout(() => process.exit(3), ms).unref();
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
