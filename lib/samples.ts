/**
 * The per-path sample files: one CSV row per event, the seed experiment's columns first (a
 * compatibility contract), then ours. Rows are appended as they come and flushed at least every
 * `flushIntervalMs`, so a crash loses at most that much.
 */
import { open, type FileHandle } from 'node:fs/promises';

export type PathName = 'baseline' | 'backbone';
export const PATHS: readonly PathName[] = ['baseline', 'backbone'];

/** The seed experiment's columns, in its order. */
export const SEED_COLUMNS = [
  'sequence_id',
  'binance_time',
  'tokyo_time',
  'frankfurt_time',
  'end_to_end_latency_ms',
  'backbone_latency_ms',
] as const;
/** Our extra columns, after the seed's. */
export const EXTRA_COLUMNS = ['stream', 'symbol', 'exchange_time_us', 'first_update_id'] as const;
export const CSV_HEADER = [...SEED_COLUMNS, ...EXTRA_COLUMNS].join(',');

export function resultsCsvName(path: PathName): string {
  return `${path}-results.csv`;
}
export function resultsJsonName(path: PathName): string {
  return `${path}-results.json`;
}

/** One received event on one path. */
export interface Sample {
  /** Exchange id of the event (trade t, aggTrade a, update u). */
  id: number;
  stream: string;
  symbol: string;
  /** Exchange event time E in µs; undefined for bookTicker. */
  exchangeTimeUs: number | undefined;
  /** Forwarder's arrival stamp, ns since the epoch (backbone only). */
  forwarderNs: bigint | undefined;
  /** Receiver's arrival stamp, ns since the epoch. */
  receiverNs: bigint;
  /** Depth only: first update id U. */
  firstId: number | undefined;
}

function ms(ns: bigint): string {
  // ns → ms with 3 decimals (µs): exact, no float rounding of 19-digit stamps.
  const negative = ns < 0n;
  const us = (negative ? -ns : ns) / 1000n;
  const whole = us / 1000n;
  const frac = (us % 1000n).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${whole}.${frac}`;
}

/** Formats one CSV row (with its newline). */
export function formatSampleRow(s: Sample): string {
  const eUs = s.exchangeTimeUs;
  const binanceMs = eUs === undefined ? '' : String(Math.floor(eUs / 1000));
  const e2e = eUs === undefined ? '' : ms(s.receiverNs - BigInt(eUs) * 1000n);
  const tokyo = s.forwarderNs === undefined ? '' : String(s.forwarderNs);
  const leg = s.forwarderNs === undefined ? '' : ms(s.receiverNs - s.forwarderNs);
  return `${s.id},${binanceMs},${tokyo},${s.receiverNs},${e2e},${leg},${s.stream},${s.symbol},${eUs ?? ''},${s.firstId ?? ''}\n`;
}

/** Appends rows to a CSV file, writing in the background and at least every `flushIntervalMs`. */
export class SampleWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  rows = 0;

  private constructor(
    private readonly file: FileHandle,
    readonly path: string,
    flushIntervalMs: number,
    private readonly flushBytes: number,
  ) {
    this.timer = setInterval(() => this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  /** Creates (truncates) the file and writes the header. */
  static async create(path: string, options: { flushIntervalMs?: number; flushBytes?: number } = {}) {
    const file = await open(path, 'w');
    await file.write(`${CSV_HEADER}\n`);
    return new SampleWriter(file, path, options.flushIntervalMs ?? 250, options.flushBytes ?? 1 << 20);
  }

  append(sample: Sample): void {
    if (this.closed) return;
    const row = formatSampleRow(sample);
    this.pending.push(row);
    this.pendingBytes += row.length;
    this.rows += 1;
    if (this.pendingBytes >= this.flushBytes) this.flush();
  }

  /** Hands what is pending to the file; writes stay in order. */
  flush(): Promise<void> {
    if (this.pending.length > 0) {
      const chunk = this.pending.join('');
      this.pending = [];
      this.pendingBytes = 0;
      this.writing = this.writing.then(async () => {
        await this.file.write(chunk);
      });
    }
    return this.writing;
  }

  /** Flushes everything and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    await this.file.sync();
    await this.file.close();
  }
}
