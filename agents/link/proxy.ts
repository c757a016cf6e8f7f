/**
 * The link emulator: a user-space TCP proxy that delays each direction like a network link.
 *
 * The kernel here has no netem, so the delay is added in user space: every chunk read from one side
 * is released to the other `delayMs + extra` later (see ./pipe.ts, `DelayLine` for how that is kept accurate
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
import { parseAgentConfig } from '../../lib/agent';
import { linkConfigSchema, type LinkConfig, type LinkConfigInput } from './config';
import type { ReleaseTiming } from './delay-line';
import { newDirectionCounters, Pipe, type DirectionCounters } from './pipe';
import { deriveSeed } from '../../lib/random';
import { TruthWriter } from '../../lib/lab-truth';
import { listen } from '../common/listen';

/** How long dialling the target may take before the target counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 10_000;

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

function errorCode(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.name;
}

/** Starts a link; rejects with FP_PORT_IN_USE when its port is taken, FP_BAD_CONFIG for a bad config. */
export async function startLink(input: LinkConfigInput): Promise<LinkHandle> {
  return openLink(parseAgentConfig('link', linkConfigSchema, input));
}

/** Starts a link from a validated configuration (see {@link startLink}). */
export async function openLink(config: LinkConfig): Promise<LinkHandle> {
  const { target } = config;

  let accepted = 0;
  let unreachable = 0;
  let socketErrors = 0;
  let lastError: LinkCounters['lastError'];
  const forward = newDirectionCounters();
  const reverse = newDirectionCounters();
  const timing: ReleaseTiming = { releases: 0, lateSumNs: 0n, lateMaxNs: 0n };
  const truthWriter =
    config.truthFile === undefined ? undefined : new TruthWriter(config.truthFile, config.name);
  /** Open connections, as (client, target) socket pairs. */
  const connections = new Set<[Socket, Socket]>();

  const recordError = (side: 'client' | 'target', error: Error): void => {
    socketErrors += 1;
    lastError = { side, code: errorCode(error), message: error.message };
  };

  const onConnection = (client: Socket): void => {
    const index = accepted;
    accepted += 1;
    if (truthWriter && client.remoteAddress !== undefined && client.remotePort !== undefined)
      truthWriter.client(index, client.remoteAddress, client.remotePort);
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
  const port = await listen(listener, config.host, config.port);
  // After listening, a listener error must not crash the process; it is only recorded.
  listener.on('error', (error) => {
    socketErrors += 1;
    lastError = { side: 'client', code: errorCode(error), message: error.message };
  });

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
