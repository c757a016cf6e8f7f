/**
 * Capture files (`--replay`, and what a recorder writes): text, optionally gzip — told by its magic
 * bytes, not by its name — one `<local receive time, ns> <raw message JSON>` per line, the relay
 * frame's format (lib/wire). Lines that are not stream messages are skipped and counted: a REST
 * snapshot or a control event (`nonStream`), and lines that are not `<stamp> <JSON object>` or a
 * stream message missing its fields (`malformed`). Blank lines are ignored, not counted.
 *
 * The reader streams (readline over zlib): a capture of hours never sits in memory whole.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import { constants as zlibConstants, createGunzip } from 'node:zlib';
import { interpretMessage, type StreamKind } from './binance';
import { ErrorCode, FeedpathError } from './errors';
import { decodeRelayFrame } from './wire';

/** One stream message of a capture. */
export interface CaptureRecord {
  /** Local receive time recorded with the message, ns since the epoch. */
  stampNs: bigint;
  /** Stream name: from the combined-stream wrapper, else derived from the message (`btcusdt@trade`). */
  stream: string;
  kind: StreamKind;
  /** The message body (inside the wrapper, if any), as parsed, in its original field order. */
  data: Record<string, unknown>;
}

/** Lines skipped so far, by reason. */
export interface CaptureSkips {
  /** Valid lines that are not stream messages: a REST snapshot, a control event, an unknown event. */
  nonStream: number;
  /** Lines without a leading ns stamp, not JSON, or a stream message missing its fields. */
  malformed: number;
}

export type CaptureLineOutcome =
  | { ok: true; record: CaptureRecord }
  | { ok: false; skip: keyof CaptureSkips; detail: string }
  | { ok: false; skip: 'blank'; detail: string };

const GZIP_MAGIC = [0x1f, 0x8b] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Classifies one capture line. Never throws. */
export function parseCaptureLine(line: string): CaptureLineOutcome {
  if (line.trim() === '') return { ok: false, skip: 'blank', detail: 'blank line' };
  const frame = decodeRelayFrame(line);
  if (frame === undefined) return { ok: false, skip: 'malformed', detail: 'no leading ns stamp' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame.raw);
  } catch {
    return { ok: false, skip: 'malformed', detail: 'not JSON' };
  }
  const outcome = interpretMessage(parsed);
  if (!outcome.ok) {
    return {
      ok: false,
      skip: outcome.reason === 'malformed' ? 'malformed' : 'nonStream',
      detail: outcome.detail,
    };
  }
  // interpretMessage accepted it, so it is an object, wrapped or not.
  const message = parsed as Record<string, unknown>;
  const data = isObject(message.data) && typeof message.stream === 'string' ? message.data : message;
  const { stream, kind } = outcome.event;
  return { ok: true, record: { stampNs: frame.stampNs, stream, kind, data } };
}

/** A capture file opened for one pass, as an async iterable of its stream messages. */
export class CaptureReader implements AsyncIterable<CaptureRecord> {
  /** Lines skipped so far (final once the iteration has ended). */
  readonly skipped: CaptureSkips = { nonStream: 0, malformed: 0 };
  /** Stream messages yielded so far. */
  records = 0;
  private input: Readable | undefined;
  private lines: Interface | undefined;
  private used = false;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    /** Whether the file is gzip-compressed (from its magic bytes). */
    readonly gzip: boolean,
  ) {}

  /** Opens a capture; a missing or unreadable file is a FeedpathError (FP_BAD_CAPTURE) naming it. */
  static async open(file: string): Promise<CaptureReader> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      throw new FeedpathError(
        ErrorCode.badCapture,
        `cannot read capture ${file}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    try {
      const head = Buffer.alloc(2);
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      const gzip = bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
      return new CaptureReader(file, handle, gzip);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw new FeedpathError(
        ErrorCode.badCapture,
        `cannot read capture ${file}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CaptureRecord> {
    if (this.used) throw new Error(`capture ${this.file} is read once; open it again`);
    this.used = true;
    const fileStream = this.handle.createReadStream({ start: 0, autoClose: false });
    let input: Readable = fileStream;
    if (this.gzip) {
      // A recorder that crashed leaves a truncated gzip: read what is there instead of failing.
      const gunzip = createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH });
      fileStream.on('error', (error) => gunzip.destroy(error));
      input = fileStream.pipe(gunzip);
    }
    this.input = input;
    const lines = createInterface({ input, crlfDelay: Infinity });
    this.lines = lines;
    try {
      for await (const line of lines) {
        const outcome = parseCaptureLine(line);
        if (outcome.ok) {
          this.records += 1;
          yield outcome.record;
        } else if (outcome.skip !== 'blank') {
          this.skipped[outcome.skip] += 1;
        }
      }
    } catch (error) {
      if (this.closed) return;
      throw new FeedpathError(ErrorCode.badCapture, `capture ${this.file}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      lines.close();
      fileStream.destroy();
      input.destroy();
      await this.close();
    }
  }

  /** Stops reading and closes the file (safe to call more than once, and mid-iteration). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lines?.close();
    this.input?.destroy();
    await this.handle.close().catch(() => undefined);
  }
}

/** Opens a capture file for reading; see {@link CaptureReader.open}. */
export function openCapture(file: string): Promise<CaptureReader> {
  return CaptureReader.open(file);
}
