/**
 * One direction of one link connection: the chunks read from a source socket go through a delay
 * line and are released to the destination socket (./proxy.ts pairs two of them per connection).
 */
import type { Socket } from 'node:net';
import { wallClock } from '../../lib/clock';
import type { LinkSpec } from '../../lib/profile';
import { exponentialSampler, mulberry32 } from '../../lib/random';
import type { TruthDirection, TruthWriter } from '../../lib/lab-truth';
import { DelayLine, type DelayLineOptions, type Item, type ReleaseTiming } from './delay-line';

export interface DirectionCounters {
  /** Bytes read from the source. */
  bytes: number;
  /** Chunks read from the source (each one is delayed as a unit). */
  chunks: number;
  /** Bytes released to the destination. */
  deliveredBytes: number;
  /** Bytes read and not yet released, over all connections. */
  queuedBytes: number;
  /** Bytes thrown away because the destination had closed. */
  droppedBytes: number;
  /** Times reading paused because a queue passed the high-water mark. */
  pauses: number;
}

export function newDirectionCounters(): DirectionCounters {
  return { bytes: 0, chunks: 0, deliveredBytes: 0, queuedBytes: 0, droppedBytes: 0, pauses: 0 };
}

export interface PipeOptions {
  source: Socket;
  dest: Socket;
  spec: LinkSpec;
  /** Taken off each drawn delay, ms (LinkConfig `compensationMs`). */
  compensationMs: number;
  /** Seeds this direction's jitter draws. */
  seed: number;
  counters: DirectionCounters;
  highWaterMark: number;
  timing: ReleaseTiming;
  /** Records each released chunk (the run's ground truth), when the link keeps one. */
  truth?: { writer: TruthWriter; connection: number; direction: TruthDirection };
}

/** One direction of one connection: source socket → delay line → destination socket. */
export class Pipe {
  /** The source sent FIN. */
  sawEnd = false;
  private closeQueued = false;
  private paused = false;
  private destClosed = false;
  private readonly line: DelayLine;

  private readonly source: Socket;
  private readonly dest: Socket;
  private readonly counters: DirectionCounters;
  private readonly highWaterMark: number;

  constructor(options: PipeOptions) {
    const { source, dest, spec, compensationMs, seed, timing, truth } = options;
    this.source = source;
    this.dest = dest;
    this.counters = options.counters;
    this.highWaterMark = options.highWaterMark;
    this.line = new DelayLine({
      delayMs: spec.delayMs,
      // The extra is exponential with mean = standard deviation = jitterMs: non-negative (nothing
      // arrives before the propagation delay), one parameter sets both, and its long right tail looks
      // like the queueing that makes real jitter. So the link adds jitterMs on average on top of
      // delayMs; chunks closer together than the jitter see a little more delay and a little less
      // spread than the draws, because a chunk never overtakes an earlier one.
      extraMs: exponentialSampler(spec.jitterMs, mulberry32(seed)),
      compensationMs,
      deliver: (items) => this.deliver(items),
      timing,
      ...(truth ? { onRelease: truthRecorder(truth) } : {}),
    });
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.on('end', () => {
      this.sawEnd = true;
      if (!this.destClosed) this.line.push({ kind: 'end' });
    });
    dest.on('drain', () => this.maybeResume());
  }

  /** The source closed abruptly: close the destination once what is queued before it is released. */
  queueClose(reset: boolean): void {
    if (this.closeQueued || this.destClosed || this.dest.destroyed) return;
    this.closeQueued = true;
    this.line.push({ kind: 'close', reset });
  }

  /** The destination is gone: drop what is queued and whatever comes later. */
  destinationClosed(): void {
    this.destClosed = true;
    this.counters.queuedBytes -= this.line.queuedBytes;
    this.counters.droppedBytes += this.line.queuedBytes;
    this.line.clear();
  }

  private onData(chunk: Buffer): void {
    const readNs = process.hrtime.bigint();
    this.counters.bytes += chunk.length;
    this.counters.chunks += 1;
    if (this.destClosed) {
      this.counters.droppedBytes += chunk.length;
      return;
    }
    this.line.push({ kind: 'data', chunk }, readNs);
    this.counters.queuedBytes += chunk.length;
    if (!this.paused && this.queued() > this.highWaterMark) {
      this.paused = true;
      this.counters.pauses += 1;
      this.source.pause();
    }
  }

  /** Bytes this direction holds: in the delay line, and written but not yet taken by the kernel. */
  private queued(): number {
    return this.line.queuedBytes + this.dest.writableLength;
  }

  private maybeResume(): void {
    if (!this.paused || this.queued() > this.highWaterMark / 2) return;
    this.paused = false;
    if (!this.source.destroyed) this.source.resume();
  }

  private deliver(items: Item[]): void {
    const { dest, counters } = this;
    dest.cork();
    for (const item of items) {
      if (item.kind === 'data') {
        counters.queuedBytes -= item.chunk.length;
        if (dest.destroyed || dest.writableEnded) {
          counters.droppedBytes += item.chunk.length;
          continue;
        }
        // The return value is not needed: `queued()` counts what the socket buffers.
        dest.write(item.chunk);
        counters.deliveredBytes += item.chunk.length;
      } else if (item.kind === 'end') {
        if (!dest.destroyed) dest.end();
      } else {
        closeSocket(dest, item.reset);
      }
    }
    if (!dest.destroyed) dest.uncork();
    this.maybeResume();
  }
}

/** Turns a released entry into a truth row, monotonic times converted to the agents' wall clock. */
function truthRecorder(truth: NonNullable<PipeOptions['truth']>): DelayLineOptions['onRelease'] {
  const clock = wallClock();
  const { writer, connection, direction } = truth;
  return (entry, releaseNs) => {
    writer.append({
      connection,
      direction,
      readNs: clock.fromHrtime(entry.readNs),
      drawnNs: entry.drawnNs,
      compensationNs: entry.compensationNs,
      dueNs: clock.fromHrtime(entry.dueNs),
      releaseNs: clock.fromHrtime(releaseNs),
      bytes: entry.item.kind === 'data' ? entry.item.chunk.length : 0,
    });
  };
}

function closeSocket(socket: Socket, reset: boolean): void {
  if (socket.destroyed) return;
  if (reset) {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle (cannot happen for our sockets): a plain close will do.
    }
  }
  socket.destroy();
}
