/**
 * The per-path sample files: one CSV row per event, the seed experiment's columns first (a
 * compatibility contract), then ours. Rows are appended as they come and flushed at least every
 * `flushIntervalMs`, so a crash loses at most that much.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, FeedpathError, userError } from './errors';

export type PathName = 'baseline' | 'backbone';
export const PATHS: readonly PathName[] = ['baseline', 'backbone'];
/**
 * What a results file records: a path, or the A/A control — the receiver's second direct connection
 * to the exchange (same URL, same streams, same link), recorded as the baseline is, so the method's
 * own noise floor can be told from a difference between the paths.
 */
export type FeedName = PathName | 'control';

/** The seed experiment's columns, in its order. */
export const SEED_COLUMNS = [
  'sequence_id',
  'binance_time',
  'tokyo_time',
  'frankfurt_time',
  'end_to_end_latency_ms',
  'backbone_latency_ms',
] as const;
/**
 * Our extra columns, after the seed's. `connection` is the 1-based ordinal of the exchange
 * connection that delivered the event (numbered per agent and feed in opening order, as in the
 * connection log, lib/agent-files.ts): the receiver's own for baseline and control rows, the
 * forwarder's upstream connection for backbone rows; empty when not known. `price` and `quantity`
 * are a trade's `p` and `q` as the exchange wrote them (copied, never parsed on the hot path), for
 * the market context (lib/analysis/market.ts); empty for streams without a traded price.
 */
export const EXTRA_COLUMNS = [
  'stream',
  'symbol',
  'exchange_time_us',
  'first_update_id',
  'connection',
  'price',
  'quantity',
] as const;
export const CSV_HEADER = [...SEED_COLUMNS, ...EXTRA_COLUMNS].join(',');

export function resultsCsvName(path: FeedName): string {
  return `${path}-results.csv`;
}
export function resultsJsonName(path: FeedName): string {
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
  /** The ordinal of the exchange connection that delivered it (see EXTRA_COLUMNS); undefined: not known. */
  connection?: number | undefined;
  /** Trade and aggTrade: the exchange's price `p` and quantity `q`, as its decimal text. */
  price?: string | undefined;
  quantity?: string | undefined;
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
  return `${s.id},${binanceMs},${tokyo},${s.receiverNs},${e2e},${leg},${s.stream},${s.symbol},${eUs ?? ''},${s.firstId ?? ''},${s.connection ?? ''},${s.price ?? ''},${s.quantity ?? ''}\n`;
}

/** Rows are written into chunks of this many bytes, each handed to the file whole. */
const CHUNK_BYTES = 256 * 1024;
/** Chunks kept for reuse once written (more are allocated while the disk lags, then let go). */
const SPARE_CHUNKS = 2;

/**
 * Appends rows to a CSV file, writing in the background: whenever a chunk fills up and at least
 * every `flushIntervalMs`. Rows are copied into a chunk of raw bytes as they are formatted, so the
 * rows waiting for the disk are not thousands of strings the garbage collector has to copy and
 * mark (its pauses would stop the receiver from stamping), and a flush is one write of bytes, not
 * a join of strings.
 *
 * A failed write (a full disk above all) is never an unhandled rejection: the first failure is kept
 * as a FeedpathError (FP_DISK_FULL for ENOSPC), handed to `onError` once, and rows after it are
 * dropped; what reached the file before it stays there and can be analysed.
 */
export class SampleWriter {
  private chunk: Buffer;
  private used = 0;
  private readonly spare: Buffer[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  rows = 0;
  /** The first write that failed; nothing is written after it. */
  failure: FeedpathError | undefined;

  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
    flushIntervalMs: number,
    private readonly chunkBytes: number,
    private readonly onError: ((error: FeedpathError) => void) | undefined,
  ) {
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
    this.timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  /** Creates (truncates) the file and writes the header. */
  static async create(
    file: string,
    options: { flushIntervalMs?: number; chunkBytes?: number; onError?: (error: FeedpathError) => void } = {},
  ) {
    const handle = await open(file, 'w');
    await handle.write(`${CSV_HEADER}\n`);
    return new SampleWriter(
      handle,
      file,
      options.flushIntervalMs ?? 250,
      options.chunkBytes ?? CHUNK_BYTES,
      options.onError,
    );
  }

  append(sample: Sample): void {
    if (this.closed || this.failure !== undefined) return;
    const row = formatSampleRow(sample);
    this.rows += 1;
    // A UTF-16 code unit is at most 3 bytes of UTF-8: room for that means room for the row.
    if (this.used + row.length * 3 > this.chunk.length) {
      void this.flush(); // never rejects: a failure is kept in `failure`
      if (row.length * 3 > this.chunk.length) {
        this.enqueue(() => this.handle.write(row));
        return;
      }
    }
    this.used += this.chunk.write(row, this.used);
  }

  /** Hands what is pending to the file; writes stay in order. */
  flush(): Promise<void> {
    if (this.used > 0) {
      const full = this.chunk;
      const length = this.used;
      this.chunk = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes);
      this.used = 0;
      this.enqueue(async () => {
        await this.handle.write(full, 0, length);
        if (this.spare.length < SPARE_CHUNKS) this.spare.push(full);
      });
    }
    return this.writing;
  }

  /** Chains a write after the earlier ones; after a failure, later writes are skipped. */
  private enqueue(write: () => Promise<unknown>): void {
    this.writing = this.writing
      .then(async () => {
        if (this.failure === undefined) await write();
      })
      .catch((error: unknown) => this.fail(error));
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    const known = userError(error);
    this.failure = new FeedpathError(
      known?.code ?? ErrorCode.agentFailed,
      `writing ${this.file} failed: ${known?.message ?? (error as Error).message}`,
      { cause: error },
    );
    this.onError?.(this.failure);
  }

  /** Flushes everything and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    // After a failed write the file keeps what reached it; a sync of a full disk would only fail again.
    if (this.failure === undefined) await this.handle.sync().catch((error: unknown) => this.fail(error));
    await this.handle.close();
  }
}
