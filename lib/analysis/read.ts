/**
 * The first step of the analysis: a path's results CSV read from a results store (a local folder or
 * S3) into columns (csv.ts). A file that does not exist is null: the run may lack that path.
 */
import type { StreamKind } from '../binance';
// Not ../store: the receiver bundles this file, and must not pull in the S3 client.
import type { ResultsStore } from '../store/store';
import { readPathColumns } from './csv';
import type { ArrivalEpoch, PathColumns } from './path-columns';

export interface SummaryOptions {
  /** Stream kind of rows without a stream name (seed-format CSVs); default: trade ids. */
  streamKind?: StreamKind;
  /** Latencies above this (ms) are rejected as absurd; default 1 h. */
  maxLatencyMs?: number;
  /** The run's asked-for duration in ms (input.json): latencies longer than the run are data errors. */
  runDurationMs?: number;
  /** Read the market's columns (lib/analysis/path-columns.ts ReadOptions); default true. */
  market?: boolean;
}

/** Reads one path's results CSV (store key `key`) into columns; null when the file does not exist. */
export async function readResults(
  store: ResultsStore,
  key: string,
  options: SummaryOptions & { epoch: ArrivalEpoch },
): Promise<PathColumns | null> {
  const stream = await store.readStream(key);
  if (stream === null) return null;
  return readPathColumns(stream, store.describe(key), {
    epoch: options.epoch,
    defaultKind: options.streamKind,
    maxLatencyMs: options.maxLatencyMs,
    market: options.market,
  });
}
