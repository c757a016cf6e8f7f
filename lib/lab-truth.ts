/**
 * The lab's ground truth: what a link emulator applied to each chunk it carried, in
 * `lab/<link>.csv` of a local run. The link writes it ({@link TruthWriter}), the analysis reads it
 * ({@link readTruth}) to tell the emulated delay of each message from the instrument's own overhead.
 *
 * One row per data chunk, written when the chunk is released:
 * `connection,direction,read_ns,drawn_ns,compensation_ns,due_ns,release_ns,bytes`
 * - `connection`: the link's connection index (0 = the first accepted);
 * - `direction`: `f` (client → target) or `r` (target → client);
 * - `read_ns`: when the link read the chunk, ns since the Unix epoch (the same anchored wall clock
 *   as the agents' stamps, see lib/clock.ts);
 * - `drawn_ns`: the delay drawn for this chunk (`delayMs` + the jitter extra), ns: the profile's;
 * - `compensation_ns`: what the link took off the drawn delay for the lab's own hops
 *   (min(`compensationMs`, drawn), see lib/loopback-hop.ts), ns; 0 without compensation;
 * - `due_ns`: when it was due: `read_ns + drawn_ns − compensation_ns`, or later when it waited
 *   behind an earlier chunk (a link never reorders), ns since the epoch;
 * - `release_ns`: when it was handed to the destination socket, ns since the epoch (≥ `due_ns`);
 * - `bytes`: the chunk's size.
 * So `due_ns − read_ns` is the delay the emulator applied, `due_ns − read_ns + compensation_ns` the
 * profile's delay for the chunk, and `release_ns − due_ns` how late it was (part of the lab's
 * overhead). Files written before the compensation (no `compensation_ns` column) still read, as 0.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';

const TRUTH_HEADER = 'connection,direction,read_ns,drawn_ns,compensation_ns,due_ns,release_ns,bytes';
/** The header before links compensated for the lab's hops: read as compensation 0. */
const TRUTH_HEADER_V1 = 'connection,direction,read_ns,drawn_ns,due_ns,release_ns,bytes';
export type TruthDirection = 'f' | 'r';

/** The folder of a run that holds the truth files, and a link's file in it. */
export const LAB_DIR = 'lab';
export function truthFileName(link: string): string {
  return `${LAB_DIR}/${link}.csv`;
}

/**
 * Who each of a link's connections came from: `lab/<link>.clients.csv`, beside its truth file, one
 * row per accepted connection — `connection,client_address,client_port`. The client's port is the
 * local port its agent records for that connection (run.json `connections`), so the lab check can
 * tell the baseline's connection from the A/A control's when both cross the same link.
 */
const CLIENTS_HEADER = 'connection,client_address,client_port';
function clientsBaseName(link: string): string {
  return `${link}.clients.csv`;
}
export function truthClientsFileName(link: string): string {
  return `${LAB_DIR}/${clientsBaseName(link)}`;
}

export interface TruthClient {
  connection: number;
  address: string;
  port: number;
}

/** Parses a clients file; rows that do not parse are skipped. */
export function readTruthClients(text: string): TruthClient[] {
  const lines = text.split('\n');
  if (lines[0]?.trim() !== CLIENTS_HEADER) return [];
  const out: TruthClient[] = [];
  for (const line of lines.slice(1)) {
    const m = /^(\d+),([^,]+),(\d+)$/.exec(line.trim());
    if (m !== null) out.push({ connection: Number(m[1]), address: m[2] as string, port: Number(m[3]) });
  }
  return out;
}

/** One chunk, as the link recorded it (times in ns since the epoch). */
export interface TruthChunk {
  connection: number;
  direction: TruthDirection;
  readNs: bigint;
  drawnNs: bigint;
  compensationNs: bigint;
  dueNs: bigint;
  releaseNs: bigint;
  bytes: number;
}

/** How often buffered rows go to the file: a crashed link loses at most this much of its record. */
const FLUSH_INTERVAL_MS = 250;

/**
 * Appends a link's truth rows to `file`, and its clients (one row per accepted connection) to
 * `<link>.clients.csv` beside it; rows are written in the background, so the link's event loop
 * never waits on the disk.
 */
export class TruthWriter {
  private pending: string[] = [];
  private readonly stream: WriteStream;
  private readonly clients: WriteStream;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly file: string,
    link: string,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.stream = createWriteStream(file);
    this.clients = createWriteStream(join(dirname(file), clientsBaseName(link)));
    // A write error (disk full) must not take the link down: the run goes on without its record
    // (without the clients, the lab check falls back to every connection of the link).
    this.stream.on('error', () => undefined);
    this.clients.on('error', () => undefined);
    this.stream.write(`${TRUTH_HEADER}\n`);
    this.clients.write(`${CLIENTS_HEADER}\n`);
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Records who connection `connection` came from (a handful per run: not buffered). */
  client(connection: number, address: string, port: number): void {
    this.clients.write(`${connection},${address},${port}\n`);
  }

  append(c: TruthChunk): void {
    this.pending.push(
      `${c.connection},${c.direction},${c.readNs},${c.drawnNs},${c.compensationNs},${c.dueNs},${c.releaseNs},${c.bytes}\n`,
    );
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.stream.write(this.pending.join(''));
    this.pending = [];
  }

  /** Writes what is left and closes the files. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await Promise.all([this.stream, this.clients].map((s) => new Promise<void>((resolve) => s.end(resolve))));
  }
}

/** A link's chunks in one direction as columns, times in ns since `epochSecond` (exact below 2⁵³). */
export interface TruthColumns {
  count: number;
  connection: Uint32Array;
  readNs: Float64Array;
  drawnNs: Float64Array;
  compensationNs: Float64Array;
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

const ROW = /^(\d+),([fr]),(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)$/;
const ROW_V1 = /^(\d+),([fr]),(\d+),(\d+),()(\d+),(\d+),(\d+)$/;

/**
 * Parses a truth file. Throws when the header is neither {@link TRUTH_HEADER} nor the older one
 * without `compensation_ns`; rows that do not parse, or that break the file's own promises
 * (`due ≥ read`, `release ≥ due`, `compensation ≤ drawn`), are counted and skipped.
 */
export function readTruth(text: string, epochSecond: number): TruthRead {
  const lines = text.split('\n');
  const header = lines[0]?.trim();
  if (header !== TRUTH_HEADER && header !== TRUTH_HEADER_V1) {
    throw new Error(`not a link truth file (header is not "${TRUTH_HEADER}")`);
  }
  const row = header === TRUTH_HEADER ? ROW : ROW_V1;
  const rows: Record<TruthDirection, number[][]> = { f: [], r: [] };
  const epochNs = BigInt(epochSecond) * 1_000_000_000n;
  let badRows = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const m = row.exec(line);
    if (m === null) {
      badRows += 1;
      continue;
    }
    const read = BigInt(m[3] as string);
    const drawn = BigInt(m[4] as string);
    const compensation = m[5] === '' ? 0n : BigInt(m[5] as string);
    const due = BigInt(m[6] as string);
    const release = BigInt(m[7] as string);
    if (due < read || release < due || compensation > drawn) {
      badRows += 1;
      continue;
    }
    rows[m[2] as TruthDirection].push([
      Number(m[1]),
      Number(read - epochNs),
      Number(drawn),
      Number(compensation),
      Number(due - epochNs),
      Number(release - epochNs),
      Number(m[8]),
    ]);
  }
  const columns = (list: number[][]): TruthColumns => {
    const n = list.length;
    const c: TruthColumns = {
      count: n,
      connection: new Uint32Array(n),
      readNs: new Float64Array(n),
      drawnNs: new Float64Array(n),
      compensationNs: new Float64Array(n),
      dueNs: new Float64Array(n),
      releaseNs: new Float64Array(n),
      bytes: new Float64Array(n),
    };
    list.forEach((r, i) => {
      c.connection[i] = r[0] as number;
      c.readNs[i] = r[1] as number;
      c.drawnNs[i] = r[2] as number;
      c.compensationNs[i] = r[3] as number;
      c.dueNs[i] = r[4] as number;
      c.releaseNs[i] = r[5] as number;
      c.bytes[i] = r[6] as number;
    });
    return c;
  };
  return { directions: { f: columns(rows.f), r: columns(rows.r) }, badRows };
}

/** The chunks of the given connections only (same columns, same order). */
export function selectConnections(c: TruthColumns, keep: ReadonlySet<number>): TruthColumns {
  const idx: number[] = [];
  for (let i = 0; i < c.count; i++) if (keep.has(c.connection[i] as number)) idx.push(i);
  const pick = <T extends Float64Array | Uint32Array>(column: T, make: (n: number) => T): T => {
    const out = make(idx.length);
    idx.forEach((from, to) => (out[to] = column[from] as number));
    return out;
  };
  const f64 = (n: number): Float64Array => new Float64Array(n);
  return {
    count: idx.length,
    connection: pick(c.connection, (n) => new Uint32Array(n)),
    readNs: pick(c.readNs, f64),
    drawnNs: pick(c.drawnNs, f64),
    compensationNs: pick(c.compensationNs, f64),
    dueNs: pick(c.dueNs, f64),
    releaseNs: pick(c.releaseNs, f64),
    bytes: pick(c.bytes, f64),
  };
}
