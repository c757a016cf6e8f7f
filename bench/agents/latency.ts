/**
 * Latency at 1,000 msg/s: the receiver's direct hop (receiver.latency_*), the forwarder's added
 * latency (forwarder.added_latency_*) and a plain `ws` relay in its place, bracketed by two plain
 * `ws` hops (ws_reference.hop_latency_*_adjacent) so that each is read against the same minutes.
 */
import { join } from 'node:path';
import type { Distribution } from '../../lib/stats';
import { describe } from '../../lib/stats';
import { RELAY_PATH } from '../../lib/wire';
import type { BenchFigure } from '../figures';
import { startWorker } from '../harness';
import { plainHop } from '../ws-reference';
import {
  AGENT_CORE,
  LOAD_CORE,
  QUIET_PINGS_MS,
  READY_TIMEOUT_MS,
  STREAM,
  TOKEN,
  conditionsNow,
  forwarderConnected,
  loadReceiver,
  num,
  receiverSamples,
  round,
  startAgent,
  startGenerator,
  startWhenConnected,
  withRatio,
  withRun,
  type AgentBench,
} from './setup';

/** One-way latency of a direct hop (plain `ws` server → receiver) at `rate` msg/s, from the CSV. */
async function receiverLatency(count: number, rate: number): Promise<Distribution | null> {
  return withRun('receiver-latency', async (dir, procs) => {
    const { gen, receiver } = await loadReceiver(procs, dir, 'blaster', { count, rate });
    await gen.waitFor((l) => l.done === true, 'all sent', (count / rate) * 1000 + 30_000);
    const { rows } = await receiverSamples(receiver, dir, 'baseline', count, 10_000);
    return describe(rows.e2eMs);
  });
}

/**
 * Relay stamp → receiver stamp through the real receiver (backbone mode), with a plain `ws` server
 * as the exchange and, as the relay, either the forwarder or a plain `ws` relay (the reference).
 */
async function relayLatency(
  relay: 'forwarder' | 'ws',
  count: number,
  rate: number,
): Promise<Distribution | null> {
  return withRun(`${relay}-latency`, async (dir, procs) => {
    const receiver = await startAgent(
      'receiver',
      {
        mode: 'backbone',
        host: '127.0.0.1',
        port: 0,
        token: TOKEN,
        outDir: join(dir, 'receiver'),
        relayPingIntervalMs: QUIET_PINGS_MS,
      },
      LOAD_CORE,
    );
    procs.push(receiver);
    const receiverPort = num(receiver.latest((l) => l.event === 'ready')?.port);
    const { gen, port } = await startGenerator(procs, 'blaster', { count, rate });
    const exchangeUrl = `ws://127.0.0.1:${port}/ws/${STREAM}`;
    if (relay === 'forwarder') {
      const forwarder = await startAgent(
        'forwarder',
        {
          exchangeUrl,
          streams: [STREAM],
          receivers: [{ host: '127.0.0.1', port: receiverPort }],
          token: TOKEN,
          outDir: join(dir, 'forwarder'),
          relayPingIntervalMs: QUIET_PINGS_MS,
          progressIntervalMs: 250,
        },
        AGENT_CORE,
      );
      procs.push(forwarder);
      await forwarderConnected(forwarder, 1);
    } else {
      const wsRelay = startWorker(
        'wsRelay',
        { exchangeUrl, receiverUrl: `ws://127.0.0.1:${receiverPort}${RELAY_PATH}`, token: TOKEN },
        AGENT_CORE,
      );
      procs.push(wsRelay);
      await wsRelay.waitFor((l) => l.ready === true, 'ready', READY_TIMEOUT_MS);
    }
    await startWhenConnected(gen, 'relay connection');
    await gen.waitFor((l) => l.done === true, 'all sent', (count / rate) * 1000 + 30_000);
    const { rows } = await receiverSamples(receiver, join(dir, 'receiver'), 'backbone', count, 10_000);
    return rows.legMs && describe(rows.legMs);
  });
}

/** One-way and added latency at 1,000 msg/s, each against the plain `ws` hop of the same minutes. */
export async function benchLatency({ log }: AgentBench): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  // bracketed by two plain ws hops: each is read against the plain ws hop of the same minutes.
  const latencyCount = 10_000;
  log(
    `latency: plain ws hop, receiver, forwarder, plain ws relay, plain ws hop, ${latencyCount.toLocaleString('en-US')} messages at 1,000 msg/s each…`,
  );
  const hopBefore = await plainHop({ count: latencyCount, rate: 1_000 });
  const rxLatency = await receiverLatency(latencyCount, 1_000);
  const added = await relayLatency('forwarder', latencyCount, 1_000);
  const plainRelay = await relayLatency('ws', latencyCount, 1_000);
  const hopAfter = await plainHop({ count: latencyCount, rate: 1_000 });
  /** The two percentiles every latency figure is given at, with each one's target ratio. */
  const percentiles = [
    { suffix: 'p50', pick: (d: Distribution) => d.median, maxRatio: 1 },
    { suffix: 'p99', pick: (d: Distribution) => d.p99, maxRatio: 1.5 },
  ];
  for (const { suffix, pick, maxRatio } of percentiles) {
    const pickOf = (d: Distribution | null): number => (d === null ? NaN : pick(d));
    const values = [hopBefore, hopAfter].map((h) => pickOf(h.latency) / 1000);
    const hop: BenchFigure = {
      name: `ws_reference.hop_latency_${suffix}_adjacent`,
      value: ((values[0] as number) + (values[1] as number)) / 2,
      unit: 'ms',
      conditions: conditionsNow({
        rate: 1_000,
        messages: latencyCount,
        before_and_after_ms: values.map((v) => v.toFixed(4)).join(' '),
        what: 'plain ws server (core 0) → plain ws client (core 1), measured just before and just after the agents',
      }),
    };
    const relayConditions = (d: Distribution | null): BenchFigure['conditions'] =>
      conditionsNow({
        rate: 1_000,
        messages: latencyCount,
        recorded: d?.count ?? 0,
        what: 'relay stamp → receiver stamp (backbone_latency_ms)',
        setting: 'relay on core 1; receiver (backbone mode) and the plain ws exchange on core 0',
      });
    const wsRelay: BenchFigure = {
      name: `ws_reference.relay_added_latency_${suffix}`,
      value: pickOf(plainRelay),
      unit: 'ms',
      conditions: {
        ...relayConditions(plainRelay),
        relay: "plain ws client → plain ws send, in the forwarder's place",
      },
    };
    const addedValue = pickOf(added);
    figures.push(
      hop,
      withRatio(
        {
          name: `receiver.latency_${suffix}_at_1000`,
          value: pickOf(rxLatency),
          unit: 'ms',
          conditions: conditionsNow({
            rate: 1_000,
            messages: latencyCount,
            recorded: rxLatency?.count ?? 0,
            what: 'E (send instant) → receiver stamp, from its CSV',
            sender: 'plain ws server (core 0), receiver on core 1',
          }),
        },
        hop,
      ),
      wsRelay,
      withRatio(
        {
          name: `forwarder.added_latency_${suffix}_at_1000`,
          value: addedValue,
          unit: 'ms',
          conditions: {
            ...relayConditions(added),
            ratio_to_ws_relay: round(addedValue / wsRelay.value, 3),
          },
          target: {
            text: `≤ ${maxRatio}× the plain ws hop ${suffix}`,
            met: addedValue / hop.value <= maxRatio,
          },
        },
        hop,
      ),
    );
  }
  return figures;
}
