/**
 * Streaming reader of a path's results CSV (`<path>-results.csv`) into typed columns.
 *
 * The rows are parsed byte by byte, straight from the stream's buffers: decoding 10 million lines to
 * strings and splitting them would take most of the time budget and a lot of garbage. This file cuts
 * the buffers into lines and hands each to its step: the header (csv-header.ts), a data row
 * (csv-row.ts: its cells, then csv-row-checks.ts: its times, stored in csv-row-columns.ts). The
 * steps are layers of one class (RowProblems → RowChecks → RowReader → PathCsvReader), not objects
 * a row is handed to: a row's calls stay on one monomorphic receiver, which V8 keeps fast. A file
 * that cannot be read at all (missing, empty, header not the seed's) throws FP_BAD_RESULTS.
 */
import { ErrorCode, FeedpathError } from '../errors';
import { CR, NEWLINE } from './csv-fields';
import { RowReader } from './csv-row';
import type { PathColumns, ReadOptions } from './path-columns';

// The reader's tunables, exported with it (index.ts).
export { ASSUMED_KIND } from './csv-row';
export { CLOCK_STEP_TOLERANCE_MS, DEFAULT_MAX_LATENCY_MS, LATENCY_CELL_TOLERANCE_MS } from './csv-row-checks';

/** Reads one path's CSV from a stream of buffers. */
export class PathCsvReader extends RowReader {
  private leftover: Buffer | null = null;
  private headerSeen = false;
  private readonly blankAt: number[] = [];

  /** Feeds the next bytes of the file. */
  feed(bytes: Uint8Array): void {
    // Always a Buffer: one element type keeps the byte loops monomorphic (fast) in V8.
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let start = 0;
    if (this.leftover !== null) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        this.leftover = concat(this.leftover, chunk);
        return;
      }
      const joined = concat(this.leftover, chunk.subarray(0, nl));
      this.leftover = null;
      this.processLine(joined, 0, joined.length);
      start = nl + 1;
    }
    const n = chunk.length;
    while (start < n) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        this.leftover = Buffer.from(chunk.subarray(start));
        return;
      }
      this.processLine(chunk, start, nl);
      start = nl + 1;
    }
  }

  /** Ends the file and returns its columns. */
  finish(): PathColumns {
    if (this.leftover !== null) {
      const last = this.leftover;
      this.leftover = null;
      this.processLine(last, 0, last.length);
    }
    if (!this.headerSeen) {
      throw new FeedpathError(ErrorCode.badResults, `${this.source} is empty (expected the header line)`);
    }
    const arrays = this.columns.finish();
    return {
      source: this.source,
      rows: this.rows,
      skipped: this.skipped,
      problems: this.problems,
      problemCounts: this.problemCounts,
      flags: arrays.flags,
      dataErrors: this.dataErrors,
      unreadableAt: this.unreadableAt,
      blankAt: this.blankAt,
      latencyChecked: this.latencyChecked,
      latencySuspects: this.latencySuspects,
      epochSecond: this.epoch.second,
      hasStreamColumn: this.streamCol >= 0,
      groups: this.streams.groups,
      group: arrays.group,
      seq: arrays.seq,
      firstId: arrays.firstId,
      connection: arrays.connection,
      eventUs: arrays.eventUs,
      price: arrays.price,
      quantity: arrays.quantity,
      arrivalNs: arrays.arrivalNs,
      e2eMs: arrays.e2eMs,
      legMs: arrays.legMs,
      exchangeToForwarderMs: arrays.exchangeToForwarderMs,
    };
  }

  /** One line, `buf[s, e)` without its newline: the header, a blank line or a row. */
  private processLine(buf: Buffer, s: number, e: number): void {
    this.line++;
    if (e > s && buf[e - 1] === CR) e--;
    if (!this.headerSeen) {
      if (e === s) {
        throw new FeedpathError(
          ErrorCode.badResults,
          `${this.source}:${this.line}: header is not the seed's: the first line is blank`,
        );
      }
      this.header(buf, s, e);
      this.headerSeen = true;
      return;
    }
    if (e === s) {
      this.blankAt.push(this.rows); // blank line (e.g. at the end): nothing to count
      return;
    }
    this.readRow(buf, s, e);
  }
}

function concat(a: Buffer, b: Buffer): Buffer {
  return Buffer.concat([a, b], a.length + b.length);
}

/** Reads a whole CSV stream into columns. */
export async function readPathColumns(
  chunks: AsyncIterable<Uint8Array | string>,
  source: string,
  options: ReadOptions,
): Promise<PathColumns> {
  const reader = new PathCsvReader(source, options);
  for await (const chunk of chunks) {
    reader.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return reader.finish();
}
