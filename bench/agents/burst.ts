/**
 * burst.*: bursts of 735 messages, each written at once with one E, into the receiver and into a
 * plain `ws` client: first → last stamp and the last message's latency.
 */
import type { BenchFigure } from '../figures';
import type { FramePhase } from '../workers/frames';
import { burstFigures, type BurstFigures } from '../workers/sink';
import {
  conditionsNow,
  contiguous,
  loadReceiver,
  loadSink,
  median,
  receiverSamples,
  withRatio,
  withRun,
  type AgentBench,
} from './setup';

const BURST_SIZE = 735;
const BURSTS = 5;

/** Warm-up, then {@link BURSTS} bursts of {@link BURST_SIZE} messages, each in one write with one E. */
const BURST_WARMUP = 20_000;
const burstPhases: FramePhase[] = [
  { count: BURST_WARMUP, rate: 20_000 },
  ...Array.from({ length: BURSTS }, () => ({ pauseMs: 300, count: BURST_SIZE, burst: true })),
];
const burstTotal = BURST_WARMUP + BURSTS * BURST_SIZE;

/** Per burst: the receiver's (or client's) figures, and the generator's E → write time, µs. */
interface BurstRun {
  bursts: BurstFigures[];
  senderUs: number[];
}

/** Bursts into the receiver: per burst, first-to-last stamp spread and the last message's latency. */
async function receiverBursts(): Promise<BurstRun> {
  return withRun('receiver-burst', async (dir, procs) => {
    const { gen, receiver } = await loadReceiver(procs, dir, 'frames', { phases: burstPhases });
    const done = await gen.waitFor((l) => l.done === true, 'all sent', 30_000);
    const { rows } = await receiverSamples(receiver, dir, 'baseline', burstTotal, 10_000);
    if (rows.rows !== burstTotal || !contiguous(rows.seq))
      throw new Error(`burst: ${rows.rows} rows of ${burstTotal}, or out of order`);
    const latenciesUs = rows.e2eMs.map((ms) => ms * 1000);
    const bursts = burstFigures(rows.arrivalNs, latenciesUs, rows.rows, BURST_SIZE, BURSTS);
    return { bursts, senderUs: (done.burstSendUs as number[] | undefined) ?? [] };
  });
}

/** The same bursts into a plain `ws` client (the reference). */
async function wsBursts(): Promise<BurstRun> {
  return withRun('ws-burst', async (_dir, procs) => {
    const { gen, sink } = await loadSink(
      procs,
      { phases: burstPhases },
      { count: burstTotal, burstSize: BURST_SIZE, bursts: BURSTS, timeoutMs: 30_000 },
    );
    const result = await sink.waitFor((l) => 'received' in l, 'sink result', 40_000);
    const done = await gen.waitFor((l) => l.done === true, 'all sent', 10_000);
    return {
      bursts: (result.bursts as BurstFigures[] | undefined) ?? [],
      senderUs: (done.burstSendUs as number[] | undefined) ?? [],
    };
  });
}

/** Burst fidelity of the receiver's direct hop, against a plain `ws` client given the same bursts. */
export async function benchBursts({ log }: AgentBench): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  log(`burst: ${BURSTS} bursts of ${BURST_SIZE} messages, each written at once…`);
  const { bursts, senderUs } = await receiverBursts();
  const { bursts: wsBurst, senderUs: wsSenderUs } = await wsBursts();
  const spreads = bursts.map((b) => b.spreadUs / 1000);
  const burstConditions = (what: BurstFigures[], sender: number[]): BenchFigure['conditions'] =>
    conditionsNow({
      generator_e_to_write_us: sender.map((us) => Math.round(us)).join(' '),
      burst_messages: BURST_SIZE,
      bursts: BURSTS,
      warmup_messages: BURST_WARMUP,
      spreads_ms: what.map((b) => (b.spreadUs / 1000).toFixed(2)).join(' '),
      last_latencies_ms: what.map((b) => (b.lastLatencyUs / 1000).toFixed(2)).join(' '),
      what: 'one write of 735 frames sharing one E (the send instant); median over the bursts',
    });
  const wsSpread: BenchFigure = {
    name: 'ws_reference.burst_spread',
    value: median(wsBurst.map((b) => b.spreadUs / 1000)),
    unit: 'ms',
    conditions: burstConditions(wsBurst, wsSenderUs),
  };
  const wsLast: BenchFigure = {
    name: 'ws_reference.burst_last_latency',
    value: median(wsBurst.map((b) => b.lastLatencyUs / 1000)),
    unit: 'ms',
    conditions: burstConditions(wsBurst, wsSenderUs),
  };
  const medianSpread = median(spreads);
  const within = spreads.filter((spread) => spread <= 3).length;
  figures.push(
    wsSpread,
    wsLast,
    withRatio(
      {
        name: 'burst.spread',
        value: medianSpread,
        unit: 'ms',
        conditions: { ...burstConditions(bursts, senderUs), bursts_within_3_ms: within },
        target: { text: 'all 735 stamped within 3 ms of the first (median burst)', met: medianSpread <= 3 },
      },
      wsSpread,
    ),
    withRatio(
      {
        name: 'burst.spread_worst',
        value: Math.max(...spreads),
        unit: 'ms',
        conditions: burstConditions(bursts, senderUs),
      },
      wsSpread,
    ),
    withRatio(
      {
        name: 'burst.last_message_latency',
        value: median(bursts.map((b) => b.lastLatencyUs / 1000)),
        unit: 'ms',
        conditions: burstConditions(bursts, senderUs),
      },
      wsLast,
    ),
  );
  return figures;
}
