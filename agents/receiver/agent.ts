/**
 * The receiver (Frankfurt role). In `paired` mode (the default) it holds both paths at once, on one
 * clock: its own exchange feed (baseline) and a WebSocket server that accepts the forwarder's relay
 * (backbone). With the baseline it also holds the A/A control (`control`, on by default): a second
 * feed to the same exchange URL, recorded as `control-results.csv`. Every arrival is stamped first,
 * then parsed and appended to the path's CSV, which is flushed as the run goes. At the end it closes
 * the CSVs, writes the per-path summaries and its own resource figures.
 *
 * This file wires the parts: the relay side (./relay-server.ts), the direct side (./direct.ts), the
 * files (./files.ts, ./recorder.ts), progress and the ordered stop.
 */
import { join } from 'node:path';
import type { AgentHandle } from '../../lib/agent';
import { wallClock } from '../../lib/clock';
import { ErrorCode, FeedpathError, userError } from '../../lib/errors';
import { ResourceSampler, type ResourceSample } from '../../lib/resources';
import { writeControlSummary, writePathSummaries } from '../../lib/analysis/summaries';
import { resultsCsvName, resultsJsonName, type FeedName, type PathName } from '../../lib/samples';
import { agentIo, finishSignal, type AgentIo } from '../common/agent-io';
import { defineAgent, reportProgress, stopOnce } from '../common/agent-kit';
import { resolveToken } from '../common/config';
import { ConnectionLog, inOpeningOrder } from '../common/connection-log';
import type { FeedCounters } from '../common/feed';
import { receiverConfigSchema, type ReceiverConfig } from './config';
import { directFeeds } from './direct';
import { openCapture, openRecorders } from './files';
import type { PathStatus } from './recorder';
import { RelayServer, type RelayCounters } from './relay-server';

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

/** Starts the receiver: listens (backbone), connects (baseline), reports `ready` with the port. */
async function runReceiver(config: ReceiverConfig, io: AgentIo): Promise<ReceiverHandle> {
  const paths = pathsOf(config.mode);
  const hasBackbone = paths.includes('backbone');
  const feeds: FeedName[] = config.control && paths.includes('baseline') ? [...paths, 'control'] : paths;
  const token = hasBackbone ? resolveToken('receiver', config.token) : undefined;
  const { report, log, warn } = agentIo('receiver', io);
  const clock = io.clock ?? wallClock();

  // Listen first: a port in use fails before any file is created.
  const relayConnections = new ConnectionLog('receiver', 'relay');
  const relay =
    token === undefined
      ? undefined
      : await RelayServer.listen({
          host: config.host,
          port: config.port,
          token,
          pingIntervalMs: config.relayPingIntervalMs,
          clock,
          connections: relayConnections,
          events: { warning: warn, log },
        });
  const port = relay?.port;

  // Ends the run at its duration, or at once on a fatal error — a sample file that cannot be
  // written (a full disk) among them: the rows written so far are kept.
  const end = finishSignal(config.durationSeconds);
  const recorders = await openRecorders(config.outDir, feeds, config.flushIntervalMs, (error) =>
    end.fail(error),
  ).catch(async (error: unknown) => {
    end.cancel();
    await relay?.stop();
    throw error;
  });
  const baseline = recorders.get('baseline');
  const backbone = recorders.get('backbone');
  const capture =
    config.record && baseline !== undefined ? await openCapture(config.outDir, warn) : undefined;
  const control = recorders.get('control');
  // The backbone: the forwarder's relay frames, stamped on arrival by the relay server.
  if (backbone !== undefined) relay?.accept((data, stampNs) => backbone.arrive(data, stampNs));

  const { feed, controlFeed, baselineConnections, controlConnections } = directFeeds({
    config,
    clock,
    baseline,
    control,
    capture,
    events: { warning: warn, fatal: (error) => end.fail(error), log },
  });

  const counters = (): ReceiverCounters => {
    const byPath: ReceiverCounters['paths'] = {};
    for (const [path, recorder] of recorders)
      byPath[path] = { messages: recorder.messages, ...recorder.status() };
    return {
      paths: byPath,
      relay: relay === undefined ? { connections: 0, accepted: 0, authRejected: 0 } : { ...relay.counters },
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
            ? (relay?.counters.connections ?? 0)
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
    onSample: reportProgress(report, (sample: ResourceSample) => ({
      event: 'progress',
      agent: 'receiver',
      paths: pathProgress(sample.perCounter),
      auth_rejected: relay?.counters.authRejected ?? 0,
      exchange: feed === undefined ? undefined : feed.status(),
      control: controlFeed === undefined ? undefined : controlFeed.status(),
      cpu_pct: sample.cpuPct,
      rss_mb: sample.rssMb,
    })),
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

  const stop = stopOnce(async (reason) => {
    end.cancel();
    relay?.stopping();
    await Promise.all([feed?.stop(), controlFeed?.stop()]);
    await relay?.stop();
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
  });
  return { port, paths, feeds, counters, finished: end.finished, stop };
}

/** The receiver agent (./main.ts runs it as a process). */
export const receiverAgent = defineAgent('receiver', receiverConfigSchema, runReceiver);
/** Starts the receiver in process: validates `input` (FP_BAD_CONFIG), then as the agent does. */
export const startReceiver = receiverAgent.start;
