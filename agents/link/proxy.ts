/**
 * The link emulator: a user-space TCP proxy that delays each direction like a network link.
 *
 * The kernel here has no netem, so the delay is added in user space: every chunk read from one side
 * is released to the other `delayMs + extra` later (see `DelayLine` for how that is kept accurate
 * and `exponentialSampler` for the extra), less `compensationMs` in a local run (the lab's own hop
 * cost, lib/loopback-hop.ts). What it does not emulate: the TCP handshake is not
 * delayed (the proxy accepts at once and dials the target at once), and there is no loss or
 * bandwidth limit.
 *
 * Closing: a FIN travels the link like data (the other side is `end()`ed when it is released); an
 * abrupt close of one side (RST, error, destroy) is queued too, and closes the other side when
 * released, with an RST if the first side had an error. An unreachable target closes the client the
 * same way, after the reverse delay.
 */
import net, { type Socket } from 'node:net';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import { describeIssues, type LinkSpec } from '../../lib/profile';
import { linkConfigSchema, type LinkConfig, type LinkConfigInput } from './config';
import { DelayLine, type DelayLineOptions, type Item, type ReleaseTiming } from './delay-line';
import { deriveSeed, exponentialSampler, mulberry32 } from '../../lib/random';
import { wallClock } from '../../lib/clock';
import { recordTruthClient, truthClientsPath, TruthWriter, type TruthDirection } from '../../lib/lab-truth';

/** How long dialling the target may take before the target counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 10_000;

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

export interface LinkCounters {
  connections: {
    accepted: number;
    active: number;
    /** Connections whose target could not be reached (the client was closed). */
    unreachable: number;
    /** Errors on any socket (an unreachable target counts here too). */
    socketErrors: number;
  };
  /** Client → target. */
  forward: DirectionCounters;
  /** Target → client. */
  reverse: DirectionCounters;
  /** How late releases were against their due time: the emulator's own error. */
  timing: { releases: number; lateMeanUs: number; lateMaxUs: number };
  lastError?: { side: 'client' | 'target'; code: string; message: string };
}

/** A running link. */
export interface LinkHandle {
  readonly config: LinkConfig;
  readonly host: string;
  /** The port it listens on (the bound one when the config asked for 0). */
  readonly port: number;
  /** A snapshot of the counters. */
  readonly counters: LinkCounters;
  /** Closes the listener and every connection at once (queued data is dropped); resolves with the final counters. */
  stop(): Promise<LinkCounters>;
}

function newDirectionCounters(): DirectionCounters {
  return { bytes: 0, chunks: 0, deliveredBytes: 0, queuedBytes: 0, droppedBytes: 0, pauses: 0 };
}

interface PipeOptions {
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
class Pipe {
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

function errorCode(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.name;
}

/** Starts a link; rejects with FP_PORT_IN_USE when its port is taken, FP_BAD_CONFIG for a bad config. */
export async function startLink(input: LinkConfigInput): Promise<LinkHandle> {
  const parsed = linkConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new FeedpathError(ErrorCode.badConfig, `link configuration: ${describeIssues(parsed.error)}`);
  }
  const config = parsed.data;
  const { name, target } = config;

  let accepted = 0;
  let unreachable = 0;
  let socketErrors = 0;
  let lastError: LinkCounters['lastError'];
  const forward = newDirectionCounters();
  const reverse = newDirectionCounters();
  const timing: ReleaseTiming = { releases: 0, lateSumNs: 0n, lateMaxNs: 0n };
  const truthWriter = config.truthFile === undefined ? undefined : new TruthWriter(config.truthFile);
  /** Open connections, as (client, target) socket pairs. */
  const connections = new Set<[Socket, Socket]>();

  const recordError = (side: 'client' | 'target', error: Error): void => {
    socketErrors += 1;
    lastError = { side, code: errorCode(error), message: error.message };
  };

  const onConnection = (client: Socket): void => {
    const index = accepted;
    accepted += 1;
    if (
      config.truthFile !== undefined &&
      client.remoteAddress !== undefined &&
      client.remotePort !== undefined
    )
      recordTruthClient(truthClientsPath(config.truthFile), {
        connection: index,
        address: client.remoteAddress,
        port: client.remotePort,
      });
    client.setNoDelay(true);
    const upstream = net.connect({
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    upstream.setNoDelay(true);
    const pair: [Socket, Socket] = [client, upstream];
    connections.add(pair);
    let connected = false;
    let clientClosed = false;
    let upstreamClosed = false;
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => {
      if (!connected) upstream.destroy(new Error(`connect timeout after ${CONNECT_TIMEOUT_MS} ms`));
    });
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
    });

    const shared = {
      highWaterMark: config.highWaterMarkBytes,
      compensationMs: config.compensationMs,
      timing,
    };
    const up = new Pipe({
      ...shared,
      source: client,
      dest: upstream,
      spec: config.forward,
      seed: deriveSeed(config.seed, index, 0),
      counters: forward,
      ...(truthWriter ? { truth: { writer: truthWriter, connection: index, direction: 'f' as const } } : {}),
    });
    const down = new Pipe({
      ...shared,
      source: upstream,
      dest: client,
      spec: config.reverse,
      seed: deriveSeed(config.seed, index, 1),
      counters: reverse,
      ...(truthWriter ? { truth: { writer: truthWriter, connection: index, direction: 'r' as const } } : {}),
    });

    client.on('error', (error) => recordError('client', error));
    upstream.on('error', (error) => {
      if (connected) {
        recordError('target', error);
        return;
      }
      unreachable += 1;
      recordError('target', error);
      lastError = {
        side: 'target',
        code: errorCode(error),
        message: `target ${target.host}:${target.port} unreachable: ${error.message}`,
      };
    });
    // A clean close (FIN seen, no error) needs nothing more: its FIN is already on the way.
    client.on('close', (hadError) => {
      clientClosed = true;
      down.destinationClosed();
      if (!up.sawEnd || hadError) up.queueClose(hadError);
      if (upstreamClosed) connections.delete(pair);
    });
    upstream.on('close', (hadError) => {
      upstreamClosed = true;
      up.destinationClosed();
      if (!down.sawEnd || hadError || !connected) down.queueClose(hadError || !connected);
      if (clientClosed) connections.delete(pair);
    });
  };

  const listener = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(config.port, config.host, () => {
      listener.off('error', reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    const where = `${config.host}:${config.port}`;
    if (error.code === 'EADDRINUSE') {
      throw new FeedpathError(
        ErrorCode.portInUse,
        `cannot listen on ${where} for link ${name}: the port is in use`,
        {
          cause: error,
        },
      );
    }
    if (error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES' || error.code === 'ENOTFOUND') {
      throw new FeedpathError(
        ErrorCode.badConfig,
        `cannot listen on ${where} for link ${name}: ${error.message}`,
        {
          cause: error,
        },
      );
    }
    throw new FeedpathError(
      ErrorCode.agentFailed,
      `cannot listen on ${where} for link ${name}: ${error.message}`,
      {
        cause: error,
      },
    );
  });
  // After listening, a listener error must not crash the process; it is only recorded.
  listener.on('error', (error) => {
    socketErrors += 1;
    lastError = { side: 'client', code: errorCode(error), message: error.message };
  });
  const port = (listener.address() as net.AddressInfo).port;

  const snapshot = (): LinkCounters => ({
    connections: { accepted, active: connections.size, unreachable, socketErrors },
    forward: { ...forward },
    reverse: { ...reverse },
    timing: {
      releases: timing.releases,
      lateMeanUs: timing.releases > 0 ? Number(timing.lateSumNs / BigInt(timing.releases)) / 1000 : 0,
      lateMaxUs: Number(timing.lateMaxNs) / 1000,
    },
    ...(lastError ? { lastError: { ...lastError } } : {}),
  });

  let stopping: Promise<LinkCounters> | undefined;
  return {
    config,
    host: config.host,
    port,
    get counters() {
      return snapshot();
    },
    stop() {
      stopping ??= new Promise<LinkCounters>((resolve) => {
        listener.close(() => {
          const final = snapshot();
          void (truthWriter?.close() ?? Promise.resolve()).then(() => resolve(final));
        });
        for (const [client, server] of connections) {
          client.destroy();
          server.destroy();
        }
      });
      return stopping;
    },
  };
}
