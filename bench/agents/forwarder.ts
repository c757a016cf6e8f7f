/**
 * forwarder.*: the forwarder's maximum to 1 and to each of 10 receivers (counting sinks), and its
 * memory with one of 3 receivers stalled.
 */
import type { Json } from '../../lib/json';
import { ProcessSampler } from '../process-usage';
import type { BenchFigure } from '../figures';
import { startWorker } from '../harness';
import { START_SIGNAL } from '../workers/common';
import type { FramePhase } from '../workers/frames';
import type { RelaySinkResult } from '../workers/relay-sinks';
import {
  AGENT_CORE,
  LOAD_CORE,
  QUIET_PINGS_MS,
  READY_TIMEOUT_MS,
  STEADY_AFTER_S,
  STREAM,
  TOKEN,
  conditionsNow,
  forwarderConnected,
  num,
  startAgent,
  startGenerator,
  withRatio,
  withRun,
  type AgentBench,
} from './setup';

/**
 * Frames a counting sink gets besides the messages: the forwarder announces its upstream connection
 * first thing on every relay connection (lib/wire.ts CONNECTION_ANNOUNCEMENT_PREFIX), and the
 * generator is one connection. The sinks count frames without decoding them.
 */
const ANNOUNCEMENTS = 1;

interface ForwarderMaxResult {
  sinks: RelaySinkResult[];
  /** The forwarder's own account per receiver (relayed, dropped, cutoffs…). */
  links: Json[];
  maxRssMb: number;
}

/**
 * The forwarder relaying to `receivers` counting sinks (one process on the generator's core),
 * with a generator that sends `phase`; the sinks time their frames from the first tenth on.
 * Sinks in `stall` accept the relay and never read.
 */
async function forwarderRun(options: {
  receivers: number;
  phase: FramePhase;
  stall?: number[];
}): Promise<ForwarderMaxResult> {
  const { receivers, phase } = options;
  return withRun('forwarder', async (dir, procs) => {
    const sinks = startWorker(
      'relaySinks',
      {
        sinks: receivers,
        stall: options.stall ?? [],
        expect: phase.count + ANNOUNCEMENTS,
        warmup: Math.floor(phase.count / 10),
        token: TOKEN,
        timeoutMs: 120_000,
      },
      LOAD_CORE,
    );
    procs.push(sinks);
    const { ports } = await sinks.waitFor((l) => l.ready === true, 'ready', READY_TIMEOUT_MS);
    const { gen, port } = await startGenerator(procs, 'frames', { phases: [phase] });
    const forwarder = await startAgent(
      'forwarder',
      {
        exchangeUrl: `ws://127.0.0.1:${port}/ws/${STREAM}`,
        streams: [STREAM],
        receivers: (ports as number[]).map((p) => ({ host: '127.0.0.1', port: p })),
        token: TOKEN,
        outDir: dir,
        relayPingIntervalMs: QUIET_PINGS_MS,
        progressIntervalMs: 250,
      },
      AGENT_CORE,
    );
    procs.push(forwarder);
    await forwarderConnected(forwarder, receivers);
    const sampler = new ProcessSampler(forwarder.pid, 100);
    gen.signal(START_SIGNAL);
    const { results } = await sinks.waitFor((l) => 'results' in l, 'sink results', 130_000);
    const usage = sampler.stop(STEADY_AFTER_S);
    const done = await forwarder.stop();
    return {
      sinks: results as RelaySinkResult[],
      links: (done?.receivers as Json[] | undefined) ?? [],
      maxRssMb: usage.maxRssMb,
    };
  });
}

/** The forwarder's maximum rate to 1 receiver and to each of 10. */
export async function benchForwarderMax({ log, ws }: AgentBench): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const wsMax = ws('max_msgs_per_s');
  const fwdCount1 = 1_000_000;
  log(`forwarder: ${fwdCount1.toLocaleString('en-US')} messages to 1 receiver…`);
  const one = await forwarderRun({ receivers: 1, phase: { count: fwdCount1, rate: 0 } });
  const oneSink = one.sinks[0];
  const oneRate = oneSink?.msgsPerS ?? NaN;
  const oneComplete = oneSink?.frames === fwdCount1 + ANNOUNCEMENTS;
  figures.push(
    withRatio(
      {
        name: 'forwarder.max_msgs_per_s_1_receiver',
        value: Math.round(oneRate),
        unit: 'msg/s',
        conditions: conditionsNow({
          messages: fwdCount1,
          relayed_frames: oneSink?.frames ?? 0,
          announcement_frames: ANNOUNCEMENTS,
          cutoffs: num(one.links[0]?.cutoffs),
          what: 'frames arriving at a counting sink, after the first tenth',
          setting: 'generator and counting sink on core 0, forwarder on core 1',
        }),
        target: { text: '≥ 100,000 msg/s, none dropped', met: oneComplete && oneRate >= 100_000 },
      },
      wsMax,
    ),
  );

  const fwdCount10 = 300_000;
  log(`forwarder: ${fwdCount10.toLocaleString('en-US')} messages to 10 receivers…`);
  const ten = await forwarderRun({ receivers: 10, phase: { count: fwdCount10, rate: 0 } });
  const tenRates = ten.sinks.map((s) => s.msgsPerS ?? 0);
  const tenMin = Math.min(...tenRates);
  const tenComplete = ten.sinks.every((s) => s.frames === fwdCount10 + ANNOUNCEMENTS);
  figures.push(
    withRatio(
      {
        name: 'forwarder.max_msgs_per_s_each_of_10',
        value: Math.round(tenMin),
        unit: 'msg/s',
        conditions: conditionsNow({
          messages: fwdCount10,
          receivers: 10,
          slowest_frames: Math.min(...ten.sinks.map((s) => s.frames)),
          total_msgs_per_s: Math.round(tenRates.reduce((a, b) => a + b, 0)),
          cutoffs: ten.links.reduce((sum, l) => sum + num(l.cutoffs), 0),
          what: 'the slowest of 10 counting sinks, frames after the first tenth',
          setting: 'generator and the 10 sinks (one process) on core 0, forwarder on core 1',
        }),
        target: { text: '≥ 20,000 msg/s to each of 10, none dropped', met: tenComplete && tenMin >= 20_000 },
      },
      wsMax,
    ),
  );
  return figures;
}

/** The forwarder's peak RSS with one of 3 receivers stalled, and whether the others kept up. */
export async function benchForwarderStalled({ log }: AgentBench): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const stalledRate = 50_000;
  const stalledCount = stalledRate * 6;
  log(`forwarder: 3 receivers, one stalled, ${stalledRate.toLocaleString('en-US')} msg/s for 6 s…`);
  const stalled = await forwarderRun({
    receivers: 3,
    stall: [2],
    phase: { count: stalledCount, rate: stalledRate },
  });
  const stalledLink = stalled.links[2] ?? {};
  const keptUp = stalled.sinks
    .filter((s) => !s.stalled)
    .every((s) => s.frames === stalledCount + ANNOUNCEMENTS);
  const cutOff = num(stalledLink.cutoffs) >= 1;
  figures.push({
    name: 'forwarder.max_rss_one_receiver_stalled',
    value: stalled.maxRssMb,
    unit: 'MB',
    conditions: conditionsNow({
      rate: stalledRate,
      messages: stalledCount,
      receivers: 3,
      stalled_cutoffs: num(stalledLink.cutoffs),
      stalled_max_buffered_bytes: num(stalledLink.max_buffered_bytes),
      others_kept_up: keptUp,
      others_cutoffs: stalled.links.slice(0, 2).reduce((sum, l) => sum + num(l.cutoffs), 0),
      what: 'peak RSS sampled from /proc every 100 ms; bound 8 MB unsent per receiver (the default)',
    }),
    target: {
      text: 'stalled receiver cut off, the others get everything, RSS < 200 MB',
      met: cutOff && keptUp && stalled.maxRssMb < 200,
    },
  });
  return figures;
}
