/**
 * The lab's ground truth: what a link emulator applied to each chunk it carried, in
 * `lab/<link>.csv` of a local run. The link writes it ({@link TruthWriter}), the analysis reads it
 * ({@link readTruth}) to tell the emulated delay of each message from the instrument's own overhead.
 *
 * One row per data chunk, written when the chunk is released:
 * `connection,direction,read_ns,drawn_ns,due_ns,release_ns,bytes`
 * - `connection`: the link's connection index (0 = the first accepted);
 * - `direction`: `f` (client → target) or `r` (target → client);
 * - `read_ns`: when the link read the chunk, ns since the Unix epoch (the same anchored wall clock
 *   as the agents' stamps, see lib/clock.ts);
 * - `drawn_ns`: the delay drawn for this chunk (`delayMs` + the jitter extra), ns;
 * - `due_ns`: when it was due: `read_ns + drawn_ns`, or later when it waited behind an earlier chunk
 *   (a link never reorders), ns since the epoch;
 * - `release_ns`: when it was handed to the destination socket, ns since the epoch (≥ `due_ns`);
 * - `bytes`: the chunk's size.
 * So `due_ns − read_ns` is the delay the emulator meant to add (its emulated delay), and
 * `release_ns − due_ns` how late it was (part of the lab's overhead).
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

const TRUTH_HEADER = 'connection,direction,read_ns,drawn_ns,due_ns,release_ns,bytes';
export type TruthDirection = 'f' | 'r';

/** The folder of a run that holds the truth files, and a link's file in it. */
export const LAB_DIR = 'lab';
export function truthFileName(link: string): string {
  return `${LAB_DIR}/${link}.csv`;
}

/** One chunk, as the link recorded it (times in ns since the epoch). */
export interface TruthChunk {
  connection: number;
  direction: TruthDirection;
  readNs: bigint;
  drawnNs: bigint;
  dueNs: bigint;
  releaseNs: bigint;
  bytes: number;
}

/** How often buffered rows go to the file: a crashed link loses at most this much of its record. */
const FLUSH_INTERVAL_MS = 250;

/** Appends truth rows to a file; rows are buffered and written in the background. */
export class TruthWriter {
  private pending: string[] = [];
  private readonly stream: WriteStream;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path);
    // A write error (disk full) must not take the link down: the run goes on without its record.
    this.stream.on('error', () => undefined);
    this.stream.write(`${TRUTH_HEADER}\n`);
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  append(c: TruthChunk): void {
    this.pending.push(
      `${c.connection},${c.direction},${c.readNs},${c.drawnNs},${c.dueNs},${c.releaseNs},${c.bytes}\n`,
    );
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.stream.write(this.pending.join(''));
    this.pending = [];
  }

  /** Writes what is left and closes the file. */
  close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    return new Promise((resolve) => this.stream.end(resolve));
  }
}

/** A link's chunks in one direction as columns, times in ns since `epochSecond` (exact below 2⁵³). */
export interface TruthColumns {
  count: number;
  connection: Uint32Array;
  readNs: Float64Array;
  drawnNs: Float64Array;
  dueNs: Float64Array;
  releaseNs: Float64Array;
  bytes: Float64Array;
}

export interface TruthRead {
  /** Chunks per direction, in file order (release order per connection). */
  directions: Record<TruthDirection, TruthColumns>;
  /** Lines that are not a valid row (a partial last line after a crash, garbage). */
  badRows: number;
}

const ROW = /^(\d+),([fr]),(\d+),(\d+),(\d+),(\d+),(\d+)$/;

/**
 * Parses a truth file. Throws when the header is not {@link TRUTH_HEADER}; rows that do not parse,
 * or that break the file's own promises (`due ≥ read`, `release ≥ due`), are counted and skipped.
 */
export function readTruth(text: string, epochSecond: number): TruthRead {
  const lines = text.split('\n');
  if (lines[0]?.trim() !== TRUTH_HEADER) {
    throw new Error(`not a link truth file (header is not "${TRUTH_HEADER}")`);
  }
  const rows: Record<TruthDirection, number[][]> = { f: [], r: [] };
  const epochNs = BigInt(epochSecond) * 1_000_000_000n;
  let badRows = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const m = ROW.exec(line);
    if (m === null) {
      badRows += 1;
      continue;
    }
    const read = BigInt(m[3] as string);
    const due = BigInt(m[5] as string);
    const release = BigInt(m[6] as string);
    if (due < read || release < due) {
      badRows += 1;
      continue;
    }
    rows[m[2] as TruthDirection].push([
      Number(m[1]),
      Number(read - epochNs),
      Number(m[4]),
      Number(due - epochNs),
      Number(release - epochNs),
      Number(m[7]),
    ]);
  }
  const columns = (list: number[][]): TruthColumns => {
    const n = list.length;
    const c: TruthColumns = {
      count: n,
      connection: new Uint32Array(n),
      readNs: new Float64Array(n),
      drawnNs: new Float64Array(n),
      dueNs: new Float64Array(n),
      releaseNs: new Float64Array(n),
      bytes: new Float64Array(n),
    };
    list.forEach((r, i) => {
      c.connection[i] = r[0] as number;
      c.readNs[i] = r[1] as number;
      c.drawnNs[i] = r[2] as number;
      c.dueNs[i] = r[3] as number;
      c.releaseNs[i] = r[4] as number;
      c.bytes[i] = r[5] as number;
    });
    return c;
  };
  return { directions: { f: columns(rows.f), r: columns(rows.r) }, badRows };
}
