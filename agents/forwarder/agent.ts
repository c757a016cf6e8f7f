/**
 * The forwarder (Tokyo role): one exchange feed, each message stamped on arrival and relayed as
 * `<stampNs> <raw>` to every receiver it is connected to (fan-out). Per message: one complete
 * WebSocket frame built from the exchange's bytes (no decoding, no JSON), the same bytes handed to
 * each receiver (see ./fan-out.ts for how a burst is batched). When the upstream connection changes
 * (a reconnect, a rollover), its ordinal is announced on the relay first (lib/wire.ts).
 */
import { mkdir } from 'node:fs/promises';
import type { AgentHandle } from '../../lib/agent';
import { wallClock } from '../../lib/clock';
import type { FeedpathError } from '../../lib/errors';
import { ResourceSampler, type ResourceSample } from '../../lib/resources';
import { encodeConnectionAnnouncement, encodeRelayWsFrame } from '../../lib/wire';
import { agentIo, finishSignal, type AgentIo } from '../common/agent-io';
import { defineAgent, reportProgress, stopOnce } from '../common/agent-kit';
import { feedOptions, resolveToken } from '../common/config';
import { ConnectionLog, inOpeningOrder } from '../common/connection-log';
import { ExchangeFeed, type FeedCounters } from '../common/feed';
import { forwarderConfigSchema, type ForwarderConfig } from './config';
import { RelayFanOut } from './fan-out';
import { RelayLink, type RelayLinkStatus } from './relay-link';

export interface ForwarderCounters {
  /** Exchange messages received and relayed (to whichever receivers were connected). */
  msgsIn: number;
  feed: FeedCounters;
  receivers: RelayLinkStatus[];
}

export interface ForwarderHandle extends AgentHandle {
  /** The exchange stream URL. */
  readonly exchangeUrl: string;
  counters(): ForwarderCounters;
  /** Resolves when `durationSeconds` is reached; rejects on a fatal error (FP_AUTH_REJECTED, FP_EXCHANGE_UNREACHABLE). */
  finished: Promise<unknown>;
}

/** Starts the forwarder: connects to the exchange and to every receiver; reports `ready` at once. */
async function runForwarder(config: ForwarderConfig, io: AgentIo): Promise<ForwarderHandle> {
  const token = resolveToken('forwarder', config.token);
  const { report, log, warn } = agentIo('forwarder', io);
  const end = finishSignal(config.durationSeconds);
  const fail = (error: FeedpathError): void => end.fail(error);
  await mkdir(config.outDir, { recursive: true });

  const backoff = { baseMs: config.reconnectBaseDelayMs, capMs: config.reconnectMaxDelaySecs * 1000 };
  const upstream = new ConnectionLog('forwarder', 'backbone');
  const relayConnections = new ConnectionLog('forwarder', 'relay');
  /** The upstream connection last announced on the relay (0: none yet). */
  let announced = 0;
  const clock = io.clock ?? wallClock();
  const links = config.receivers.map(
    (receiver) =>
      new RelayLink({
        host: receiver.host,
        port: receiver.port,
        token,
        backoff,
        maxBufferedBytes: config.maxBufferedBytes,
        authRejectLimit: config.authRejectLimit,
        pingIntervalMs: config.relayPingIntervalMs,
        events: { warning: warn, fatal: fail, log },
        connections: relayConnections,
        // Re-announced to a receiver that (re)connects; no reader uses an announcement's stamp.
        greeting: () =>
          announced === 0 ? undefined : encodeConnectionAnnouncement(clock.nowNs(), announced),
      }),
  );
  const fanOut = new RelayFanOut(links);
  let msgsIn = 0;
  const feed = new ExchangeFeed({
    ...feedOptions(config),
    clock,
    connections: upstream,
    onMessage: (data, stampNs, connection) => {
      msgsIn += 1;
      if (connection !== announced) {
        announced = connection;
        fanOut.relay(encodeConnectionAnnouncement(stampNs, connection), 0);
      }
      fanOut.relay(encodeRelayWsFrame(stampNs, data));
    },
    events: { warning: warn, fatal: fail, log: (line) => log(line) },
  });
  const counters = (): ForwarderCounters => ({
    msgsIn,
    feed: { ...feed.counters },
    receivers: links.map((link) => link.status()),
  });

  const sampler = await ResourceSampler.start({
    agent: 'forwarder',
    dir: config.outDir,
    intervalMs: config.progressIntervalMs,
    counters: () => ({ exchange: msgsIn }),
    onSample: reportProgress(report, (sample: ResourceSample) => {
      const receivers = links.map((link) => link.status());
      return {
        event: 'progress',
        agent: 'forwarder',
        exchange_connected: feed.connected,
        exchange: feed.status(),
        msgs_in: msgsIn,
        msgs_per_s: sample.msgsPerS,
        receivers_connected: receivers.filter((r) => r.connected).length,
        cutoffs: receivers.reduce((sum, r) => sum + r.cutoffs, 0),
        receivers,
        cpu_pct: sample.cpuPct,
        rss_mb: sample.rssMb,
      };
    }),
  });
  for (const link of links) link.start();
  feed.start();
  report({
    event: 'ready',
    agent: 'forwarder',
    exchange: feed.url,
    receivers: links.map((link) => link.address),
    metrics: sampler.jsonPath,
  });

  const stop = stopOnce(async (reason) => {
    end.cancel();
    await feed.stop();
    await Promise.all(links.map((link) => link.stop()));
    const metrics = await sampler.stop({
      receivers: links.map((link) => link.status()),
      feed: feed.counters,
      connections: inOpeningOrder(upstream, relayConnections),
    });
    log(`stopped (${reason}): ${msgsIn} messages in`);
    return {
      msgs_in: msgsIn,
      receivers: links.map((link) => link.status()),
      feed: { ...feed.counters },
      files: [metrics.files.csv, metrics.files.json],
    };
  });
  return { exchangeUrl: feed.url, counters, finished: end.finished, stop };
}

/** The forwarder agent (./main.ts runs it as a process). */
export const forwarderAgent = defineAgent('forwarder', forwarderConfigSchema, runForwarder);
/** Starts the forwarder in process: validates `input` (FP_BAD_CONFIG), then as the agent does. */
export const startForwarder = forwarderAgent.start;
