/**
 * The recorder side of the capture format (lib/capture.ts reads it): the raw messages of one
 * exchange connection, one `<local receive time, ns> <raw message>` line each (the relay frame's
 * format, lib/wire.ts), gzip-compressed. A run's capture is `capture/baseline.jsonl.gz` in its
 * folder (and under its S3 prefix): `feedpath run --replay` plays it back.
 *
 * Off the stamping path: `append` only keeps the message's bytes and its stamp (two array pushes);
 * the lines are built and handed to zlib every {@link DEFAULT_CAPTURE_FLUSH_MS}, and zlib compresses
 * on libuv's thread pool, not on the event loop that stamps arrivals. Recording is auxiliary: a
 * capture that cannot be written is reported once and dropped, the run goes on.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';

/** The capture of the receiver's direct exchange connection (the baseline), relative to the run's folder. */
export const CAPTURE_FILE = 'capture/baseline.jsonl.gz';
/** Buffered lines go to zlib at least this often, ms (a crash loses at most this much and zlib's window). */
const DEFAULT_CAPTURE_FLUSH_MS = 250;
/** More pending messages than this are written without waiting for the timer (in slices, see below). */
const MAX_PENDING = 4096;
/**
 * Lines built per turn of the event loop (≈ 1 µs each, measured): a burst's backlog is written in
 * slices of ≈ 0.25 ms between socket reads, as the path recorder parses (agents/receiver/recorder.ts),
 * never in one long stretch that would delay the stamping of the next arrivals.
 */
const SLICE_LINES = 256;
const SPACE = Buffer.from(' ');
const NEWLINE = Buffer.from('\n');

export class CaptureWriter {
  /** Messages written to the capture so far (appended and handed to zlib). */
  messages = 0;
  private pending: Buffer[] = [];
  private stamps: bigint[] = [];
  private readonly timer: NodeJS.Timeout;
  private failed = false;
  private closed = false;
  private scheduled = false;
  private readonly finished: Promise<void>;

  private constructor(
    readonly file: string,
    private readonly gzip: Gzip,
    out: WriteStream,
    flushIntervalMs: number,
    private readonly onError: (error: Error) => void,
  ) {
    this.finished = new Promise<void>((resolve) => {
      out.once('close', () => resolve());
    });
    const fail = (error: Error): void => {
      if (this.failed) return;
      this.failed = true;
      this.pending = [];
      this.stamps = [];
      this.onError(error);
    };
    gzip.on('error', (error) => {
      fail(error);
      out.destroy();
    });
    out.on('error', (error) => {
      fail(error);
      gzip.destroy();
    });
    gzip.pipe(out);
    this.timer = setInterval(this.slice, flushIntervalMs);
    this.timer.unref();
  }

  /** Creates the capture file (and its folder); a failure here is the caller's to report. */
  static async create(
    file: string,
    options: { flushIntervalMs?: number; onError?: (error: Error) => void } = {},
  ): Promise<CaptureWriter> {
    await mkdir(dirname(file), { recursive: true });
    const out = createWriteStream(file);
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    // Level 6 (zlib's default): a Binance trade line compresses ~8:1 at a few µs per line.
    const gzip = createGzip({ level: 6 });
    return new CaptureWriter(
      file,
      gzip,
      out,
      options.flushIntervalMs ?? DEFAULT_CAPTURE_FLUSH_MS,
      options.onError ?? (() => undefined),
    );
  }

  /** Keeps one message as it arrived, with its receive stamp; written at the next flush. */
  append(raw: Buffer, stampNs: bigint): void {
    if (this.failed || this.closed) return;
    this.pending.push(raw);
    this.stamps.push(stampNs);
    if (this.pending.length >= MAX_PENDING && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.slice);
    }
  }

  /** Hands every pending line to zlib, now (at close). */
  flush(): void {
    while (this.pending.length > 0 && !this.failed) this.write(this.pending.length);
  }

  /** One slice of the pending lines; the rest on the next turn of the event loop. */
  private readonly slice = (): void => {
    this.scheduled = false;
    if (this.failed || this.pending.length === 0) return;
    this.write(Math.min(SLICE_LINES, this.pending.length));
    if (this.pending.length > 0) {
      this.scheduled = true;
      setImmediate(this.slice);
    }
  };

  private write(count: number): void {
    const parts: Buffer[] = new Array<Buffer>(count * 4);
    for (let i = 0; i < count; i += 1) {
      parts[i * 4] = Buffer.from((this.stamps[i] as bigint).toString());
      parts[i * 4 + 1] = SPACE;
      parts[i * 4 + 2] = this.pending[i] as Buffer;
      parts[i * 4 + 3] = NEWLINE;
    }
    this.pending.splice(0, count);
    this.stamps.splice(0, count);
    this.gzip.write(Buffer.concat(parts));
    this.messages += count;
  }

  /** Writes what is pending and closes the file (a complete gzip member). */
  async close(): Promise<void> {
    if (this.closed) return this.finished;
    clearInterval(this.timer);
    this.scheduled = true; // no slice after close
    this.flush();
    this.closed = true;
    this.gzip.end();
    return this.finished;
  }
}
