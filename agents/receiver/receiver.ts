/**
 * The receiver (Frankfurt role). In `paired` mode (the default) it holds both paths at once, on one
 * clock: its own exchange feed (baseline) and a WebSocket server that accepts the forwarder's relay
 * (backbone). With the baseline it also holds the A/A control (`control`, on by default): a second
 * feed to the same exchange URL, recorded as `control-results.csv`. Every arrival is stamped first, then parsed and appended to the path's CSV, which is
 * flushed as the run goes. At the end it closes the CSVs, writes the per-path summaries and its own
 * resource figures.
 */
import { timingSafeEqual } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentHandle } from '../../lib/agent';
import { wallClock } from '../../lib/clock';
import { ErrorCode, FeedpathError, userError } from '../../lib/errors';
import { describeIssues } from '../../lib/profile';
import { ResourceSampler } from '../../lib/resources';
import { CAPTURE_FILE, CaptureWriter } from '../../lib/capture-writer';
import { writeControlSummary, writePathSummaries } from '../../lib/analysis/summaries';
import {
  SampleWriter,
  resultsCsvName,
  resultsJsonName,
  type FeedName,
  type PathName,
} from '../../lib/samples';
import { RELAY_PATH, RELAY_TOKEN_HEADER } from '../../lib/wire';
import { agentIo, finishSignal, type AgentIo } from '../common/agent-io';
import { feedOptions, resolveToken } from '../common/config';
import { ConnectionLog, inOpeningOrder } from '../common/connection-log';
import { ExchangeFeed, type FeedCounters } from '../common/feed';
import { startHeartbeat } from '../common/heartbeat';
import { receiverConfigSchema, type ReceiverConfig, type ReceiverConfigInput } from './config';
import { PathRecorder, type PathStatus } from './recorder';

/** A relay frame larger than this is refused (Binance messages are a few kB). */
const MAX_RELAY_FRAME_BYTES = 16 * 1024 * 1024;

export interface RelayCounters {
  /** Forwarder connections open now. */
  connections: number;
  /** Forwarder connections accepted so far. */
  accepted: number;
  /** Connection attempts refused for a wrong or missing token (HTTP 401). */
  authRejected: number;
}

export interface ReceiverCounters {
  paths: Partial<Record<FeedName, PathStatus & { messages: number }>>;
  relay: RelayCounters;
  feed: FeedCounters | undefined;
  /** The control's feed (undefined without the A/A control). */
  controlFeed: FeedCounters | undefined;
}

export interface ReceiverHandle extends AgentHandle {
  /** The port the relay server listens on (undefined in baseline mode). */
  readonly port: number | undefined;
  readonly paths: readonly PathName[];
  /** The files it records: its paths, and `control` when the A/A control is on. */
  readonly feeds: readonly FeedName[];
  counters(): ReceiverCounters;
  /** Resolves when `durationSeconds` is reached; rejects on a fatal error (FP_EXCHANGE_UNREACHABLE). */
  finished: Promise<unknown>;
}

function pathsOf(mode: ReceiverConfig['mode']): PathName[] {
  return mode === 'paired' ? ['baseline', 'backbone'] : [mode];
}

function tokenMatches(expected: Buffer, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') {
        reject(
          new FeedpathError(
            ErrorCode.portInUse,
            `receiver: port ${port} on ${host} is already in use: stop what holds it or choose another port`,
            { cause: error },
          ),
        );
      } else {
        reject(
          new FeedpathError(
            ErrorCode.agentFailed,
            `receiver: cannot listen on ${host}:${port}: ${error.message}`,
          ),
        );
      }
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Starts the receiver: listens (backbone), connects (baseline), reports `ready` with the port. */
export async function startReceiver(input: ReceiverConfigInput, io: AgentIo = {}): Promise<ReceiverHandle> {
  const parsed = receiverConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new FeedpathError(ErrorCode.badConfig, `receiver configuration: ${describeIssues(parsed.error)}`);
  }
  const config = parsed.data;
  const paths = pathsOf(config.mode);
  const hasBackbone = paths.includes('backbone');
  const feeds: FeedName[] = config.control && paths.includes('baseline') ? [...paths, 'control'] : paths;
  const token = hasBackbone ? Buffer.from(resolveToken('receiver', config.token)) : undefined;
  const { report, log } = agentIo('receiver', io);
  const clock = io.clock ?? wallClock();
  const warn = (error: FeedpathError): void => {
    report({ event: 'warning', agent: 'receiver', code: error.code, message: error.message });
  };

  // Listen first: a port in use fails before any file is created.
  const relay: RelayCounters = { connections: 0, accepted: 0, authRejected: 0 };
  let server: Server | undefined;
  let port: number | undefined;
  if (hasBackbone) {
    server = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end(`feedpath receiver: WebSocket relay on ${RELAY_PATH}\n`);
    });
    port = await listen(server, config.host, config.port);
  }

  // Ends the run at its duration, or at once on a fatal error — a sample file that cannot be
  // written (a full disk) among them: the rows written so far are kept.
  const end = finishSignal(config.durationSeconds);
  const recorders = new Map<FeedName, PathRecorder>();
  try {
    await mkdir(config.outDir, { recursive: true });
    for (const path of feeds) {
      const writer = await SampleWriter.create(join(config.outDir, resultsCsvName(path)), {
        flushIntervalMs: config.flushIntervalMs,
        onError: (error) => end.fail(error),
      });
      recorders.set(path, new PathRecorder(path, writer));
    }
  } catch (error) {
    end.cancel();
    server?.close();
    for (const recorder of recorders.values()) await recorder.writer.close();
    throw new FeedpathError(
      userError(error)?.code ?? ErrorCode.agentFailed,
      `receiver: cannot create the sample files in ${config.outDir}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const baseline = recorders.get('baseline');
  const backbone = recorders.get('backbone');
  // The capture is auxiliary: a file that cannot be created or written is a warning, not the end.
  let capture: CaptureWriter | undefined;
  if (config.record && baseline !== undefined) {
    const onError = (error: Error): void =>
      warn(
        new FeedpathError(
          ErrorCode.agentFailed,
          `receiver: the capture ${CAPTURE_FILE} cannot be written (${error.message}); the run goes on without it`,
        ),
      );
    capture = await CaptureWriter.create(join(config.outDir, CAPTURE_FILE), { onError }).catch(
      (error: unknown) => {
        onError(error as Error);
        return undefined;
      },
    );
  }
  const control = recorders.get('control');
  const baselineConnections = new ConnectionLog('receiver', 'baseline');
  const controlConnections = new ConnectionLog('receiver', 'control');
  const relayConnections = new ConnectionLog('receiver', 'relay');
  let stopping = false;

  let wss: WebSocketServer | undefined;
  if (backbone !== undefined && server !== undefined && token !== undefined) {
    wss = new WebSocketServer({
      server,
      path: RELAY_PATH,
      perMessageDeflate: false,
      maxPayload: MAX_RELAY_FRAME_BYTES,
      verifyClient: (
        info: { req: IncomingMessage },
        done: (ok: boolean, code?: number, message?: string) => void,
      ) => {
        if (tokenMatches(token, info.req.headers[RELAY_TOKEN_HEADER])) {
          done(true);
          return;
        }
        relay.authRejected += 1;
        warn(
          new FeedpathError(
            ErrorCode.authRejected,
            `relay connection from ${info.req.socket.remoteAddress ?? 'unknown'} refused: wrong or missing token (HTTP 401)`,
          ),
        );
        done(false, 401, 'Unauthorized');
      },
    });
    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      ws.on('message', (data: Buffer) => {
        const stampNs = clock.nowNs();
        backbone.arrive(data, stampNs);
      });
      relay.connections += 1;
      relay.accepted += 1;
      const from = `${req.socket.remoteAddress ?? 'unknown'}:${req.socket.remotePort ?? ''}`;
      const record = relayConnections.opened(
        `ws://${req.headers.host ?? ''}${req.url ?? RELAY_PATH}`,
        req.socket,
      );
      let endReason: string | undefined;
      let lastError = '';
      log(`relay: forwarder connected from ${from}`);
      const stopHeartbeat = startHeartbeat(ws, config.relayPingIntervalMs, () => {
        endReason = `silent: no answer to a ping within ${config.relayPingIntervalMs} ms`;
        warn(
          new FeedpathError(
            ErrorCode.peerSilent,
            `forwarder ${from} did not answer a ping: connection dropped`,
          ),
        );
      });
      ws.on('error', (error: Error) => {
        lastError = error.message;
        log(`relay: connection from ${from}: ${error.message}`);
      });
      ws.on('close', (code: number, reason: Buffer) => {
        const text = reason.toString();
        relayConnections.closed(
          record,
          endReason ??
            (stopping
              ? 'stopped'
              : lastError || `closed by the forwarder (code ${code}${text === '' ? '' : `: ${text}`})`),
        );
        stopHeartbeat();
        relay.connections -= 1;
        log(`relay: forwarder ${from} disconnected`);
      });
    });
    wss.on('error', (error: Error) => log(`relay server: ${error.message}`));
  }

  let feed: ExchangeFeed | undefined;
  if (baseline !== undefined) {
    feed = new ExchangeFeed({
      ...feedOptions(config),
      clock,
      connections: baselineConnections,
      onMessage: (data, stampNs, connection) => {
        baseline.arrive(data, stampNs, connection);
        // After the stamp and the queueing: keeping the bytes costs two array pushes (capture-writer.ts).
        capture?.append(data, stampNs);
      },
      events: { warning: warn, fatal: (error) => end.fail(error), log },
    });
  }
  // The A/A control: the same URL and options as the baseline, on a connection of its own.
  let controlFeed: ExchangeFeed | undefined;
  if (control !== undefined) {
    controlFeed = new ExchangeFeed({
      ...feedOptions(config),
      clock,
      connections: controlConnections,
      onMessage: (data, stampNs, connection) => control.arrive(data, stampNs, connection),
      events: {
        warning: (error) => warn(new FeedpathError(error.code, `control: ${error.message}`)),
        // The control is auxiliary: without it the paths are still measured.
        fatal: (error) =>
          warn(new FeedpathError(error.code, `control: ${error.message}; the run goes on without it`)),
        log: (line) => log(`control ${line}`),
      },
    });
  }

  const counters = (): ReceiverCounters => {
    const byPath: ReceiverCounters['paths'] = {};
    for (const [path, recorder] of recorders)
      byPath[path] = { messages: recorder.messages, ...recorder.status() };
    return {
      paths: byPath,
      relay: { ...relay },
      feed: feed === undefined ? undefined : { ...feed.counters },
      controlFeed: controlFeed === undefined ? undefined : { ...controlFeed.counters },
    };
  };
  const pathProgress = (perSecond: Record<string, number>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [path, recorder] of recorders) {
      const { samples, lost, duplicates, malformed, unknown, streams } = recorder.status();
      out[path] = {
        samples,
        lost,
        duplicates,
        malformed,
        unknown,
        msgs_per_s: perSecond[path] ?? 0,
        connections:
          path === 'backbone'
            ? relay.connections
            : (path === 'control' ? controlFeed : feed)?.connected
              ? 1
              : 0,
        streams,
      };
    }
    return out;
  };

  const sampler = await ResourceSampler.start({
    agent: 'receiver',
    dir: config.outDir,
    intervalMs: config.progressIntervalMs,
    counters: () => Object.fromEntries([...recorders].map(([path, recorder]) => [path, recorder.messages])),
    onSample: (sample) =>
      report({
        event: 'progress',
        agent: 'receiver',
        paths: pathProgress(sample.perCounter),
        auth_rejected: relay.authRejected,
        exchange: feed === undefined ? undefined : feed.status(),
        control: controlFeed === undefined ? undefined : controlFeed.status(),
        cpu_pct: sample.cpuPct,
        rss_mb: sample.rssMb,
      }),
  });
  feed?.start();
  controlFeed?.start();
  report({
    event: 'ready',
    agent: 'receiver',
    mode: config.mode,
    control: control !== undefined,
    host: config.host,
    port,
    exchange: feed?.url,
    files: feeds.map((path) => join(config.outDir, resultsCsvName(path))),
  });

  let stopped: Promise<Record<string, unknown>> | undefined;
  const stop = (reason: string): Promise<Record<string, unknown>> => {
    stopped ??= (async () => {
      end.cancel();
      stopping = true;
      await Promise.all([feed?.stop(), controlFeed?.stop()]);
      if (wss !== undefined) {
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => (wss as WebSocketServer).close(() => resolve()));
      }
      if (server !== undefined) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
      }
      for (const recorder of recorders.values()) {
        recorder.drain();
        await recorder.writer.close();
      }
      await capture?.close();
      const status = counters();
      // The metrics are secondary: failing to write them (a full disk) must not keep the path
      // summaries from being tried.
      const metrics = await sampler
        .stop({
          paths: status.paths,
          relay: status.relay,
          feed: status.feed,
          control_feed: status.controlFeed,
          connections: inOpeningOrder(baselineConnections, controlConnections, relayConnections),
        })
        .catch((error: unknown) => {
          const known = userError(error);
          warn(
            new FeedpathError(
              known?.code ?? ErrorCode.agentFailed,
              `receiver: cannot write its metrics: ${known?.message ?? String(error)}`,
            ),
          );
          return undefined;
        });
      await writePathSummaries(config.outDir, paths);
      if (control !== undefined) await writeControlSummary(config.outDir);
      log(
        `stopped (${reason}): ${feeds.map((p) => `${p} ${recorders.get(p)?.samples ?? 0} samples`).join(', ')}`,
      );
      return {
        files: [
          ...feeds.flatMap((path) => [
            join(config.outDir, resultsCsvName(path)),
            join(config.outDir, resultsJsonName(path)),
          ]),
          ...(metrics === undefined ? [] : [metrics.files.csv, metrics.files.json]),
          ...(capture === undefined ? [] : [capture.file]),
        ],
        ...(capture === undefined ? {} : { captured: capture.messages }),
        samples: Object.fromEntries(feeds.map((path) => [path, recorders.get(path)?.samples ?? 0])),
        paths: status.paths,
        relay: status.relay,
      };
    })();
    return stopped;
  };
  return { port, paths, feeds, counters, finished: end.finished, stop };
}
