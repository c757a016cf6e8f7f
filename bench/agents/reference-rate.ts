/**
 * reference.*: the seed study's table. Exchange simulator → forwarder → receiver (paired: direct and
 * relayed) at 30 trades/s + 100 bookTicker/s, with a plain `ws` client at the same rate alongside
 * (ws_reference.reference_rate_*): CPU, steady CPU, RSS, throughput and latency per agent.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourceSummary } from '../../lib/resources';
import { ProcessSampler } from '../process-usage';
import { resultsCsvName } from '../../lib/samples';
import type { Distribution } from '../../lib/stats';
import type { BenchFigure } from '../figures';
import { sleep, startWorker } from '../harness';
import { START_SIGNAL } from '../workers/common';
import {
  AGENT_CORE,
  LOAD_CORE,
  READY_TIMEOUT_MS,
  STEADY_AFTER_S,
  TOKEN,
  conditionsNow,
  forwarderConnected,
  mean,
  num,
  readSamples,
  round,
  startAgent,
  startGenerator,
  withRatio,
  withRun,
  type AgentBench,
  type AgentName,
} from './setup';

/** The seed study's rate: 30 trades/s + 100 bookTicker/s. */
const REFERENCE_MSGS_PER_S = 130;

/** An agent's CPU % from its metrics/<agent>.csv, over the samples after the first `afterS` seconds. */
async function steadyCpuFromMetrics(csvPath: string, afterS = STEADY_AFTER_S): Promise<number> {
  const lines = (await readFile(csvPath, 'utf8')).trim().split('\n').slice(1);
  const cpu = lines.slice(afterS).map((line) => Number(line.split(',')[1]));
  return cpu.length === 0 ? NaN : cpu.reduce((a, b) => a + b, 0) / cpu.length;
}

interface ReferenceRow {
  /** An agent, or `ws_client`: the plain `ws` client run alongside at the reference rate. */
  agent: AgentName | 'ws_client';
  durationS: number;
  cpuPct: number;
  /** CPU % after the first STEADY_AFTER_S seconds (JIT warm-up done); NaN for a shorter run. */
  steadyCpuPct: number;
  avgRssMb: number;
  msgsPerS: number;
  latencyMs: number | null;
  latencyWhat: string;
}

/** A reference-rate row from an agent's own metrics/<agent>.json and .csv. */
async function metricsRow(
  agent: AgentName,
  summary: ResourceSummary,
  latencyMs: number,
  latencyWhat: string,
): Promise<ReferenceRow> {
  return {
    agent,
    durationS: summary.duration_s,
    cpuPct: summary.avg_cpu_pct ?? NaN,
    steadyCpuPct: await steadyCpuFromMetrics(summary.files.csv),
    avgRssMb: summary.avg_rss_mb ?? NaN,
    msgsPerS: summary.avg_msgs_per_s ?? NaN,
    latencyMs,
    latencyWhat,
  };
}

/**
 * The seed study's table: exchange simulator → forwarder → receiver (paired: direct and relayed)
 * at 30 trades/s + 100 bookTicker/s for `seconds`. The forwarder's and receiver's figures are their
 * own metrics/<agent>.json; the exchange writes none, so it is sampled from /proc.
 */
async function referenceRate(seconds: number): Promise<{ ws: ReferenceRow; agents: ReferenceRow[] }> {
  return withRun('reference', async (dir, procs) => {
    const streams = ['btcusdt@trade', 'btcusdt@bookTicker'];
    const exchange = await startAgent(
      'exchange',
      {
        source: {
          kind: 'synthetic',
          tradesPerSecond: 30,
          bookTickerPerSecond: 100,
          burstSize: 0,
          burstIntervalMs: 0,
        },
      },
      LOAD_CORE,
    );
    procs.push(exchange);
    const exchangeUrl = `ws://127.0.0.1:${num(exchange.latest((l) => l.event === 'ready')?.port)}`;
    const receiver = await startAgent(
      'receiver',
      {
        mode: 'paired',
        exchangeUrl,
        streams,
        host: '127.0.0.1',
        port: 0,
        token: TOKEN,
        outDir: join(dir, 'r'),
        // The seed study's receiver: the two paths, without the A/A control's second connection
        // (on by default since issue 16), so the row compares with the figures before it.
        control: false,
      },
      AGENT_CORE,
    );
    procs.push(receiver);
    const forwarder = await startAgent(
      'forwarder',
      {
        exchangeUrl,
        streams,
        receivers: [{ host: '127.0.0.1', port: num(receiver.latest((l) => l.event === 'ready')?.port) }],
        token: TOKEN,
        outDir: join(dir, 'f'),
      },
      AGENT_CORE,
    );
    procs.push(forwarder);
    // The reference alongside: a plain ws server and client at the same message rate, same moment.
    const wsCount = REFERENCE_MSGS_PER_S * seconds;
    const { gen: wsGen, port: wsPort } = await startGenerator(procs, 'blaster', {
      count: wsCount,
      rate: REFERENCE_MSGS_PER_S,
      lingerMs: 1_000,
    });
    const wsSink = startWorker(
      'sink',
      { url: `ws://127.0.0.1:${wsPort}`, count: wsCount, timeoutMs: (seconds + 30) * 1000 },
      AGENT_CORE,
    );
    procs.push(wsSink);
    await wsGen.waitFor((l) => l.connected === 1, 'ws client connection', READY_TIMEOUT_MS);
    await forwarderConnected(forwarder, 1);
    await exchange.waitFor(
      (l) => l.event === 'progress' && l.clients === 2,
      'both clients',
      READY_TIMEOUT_MS,
    );
    const sampler = new ProcessSampler(exchange.pid, 1_000);
    const sinkSampler = new ProcessSampler(wsSink.pid, 1_000);
    wsGen.signal(START_SIGNAL);
    const startMessages = num(exchange.latest((l) => l.event === 'progress')?.messages);
    const started = performance.now();
    await sleep(seconds * 1000);
    const exchangeUsage = sampler.stop(STEADY_AFTER_S);
    const sinkUsage = sinkSampler.stop(STEADY_AFTER_S);
    const endMessages = num(exchange.latest((l) => l.event === 'progress')?.messages);
    const elapsedS = (performance.now() - started) / 1000;
    const sinkResult = await wsSink
      .waitFor((l) => 'received' in l, 'ws client result', 15_000)
      .catch(() => undefined);
    await forwarder.stop();
    await receiver.stop();
    await exchange.stop();
    const metrics = async (agent: string, sub: string): Promise<ResourceSummary> =>
      JSON.parse(await readFile(join(dir, sub, 'metrics', `${agent}.json`), 'utf8')) as ResourceSummary;
    const rx = await metrics('receiver', 'r');
    const fw = await metrics('forwarder', 'f');
    const baseline = await readSamples(join(dir, 'r', resultsCsvName('baseline')));
    const backbone = await readSamples(join(dir, 'r', resultsCsvName('backbone')));
    const ws: ReferenceRow = {
      agent: 'ws_client',
      durationS: sinkUsage.seconds,
      cpuPct: sinkUsage.cpuPct,
      steadyCpuPct: sinkUsage.steadyCpuPct,
      avgRssMb: sinkUsage.avgRssMb,
      msgsPerS: num(sinkResult?.received) / seconds,
      latencyMs: ((sinkResult?.latency as Distribution | null | undefined)?.mean ?? NaN) / 1000,
      latencyWhat: 'one-way E → stamp (plain ws server → plain ws client)',
    };
    const agents: ReferenceRow[] = [
      {
        agent: 'exchange',
        durationS: elapsedS,
        cpuPct: exchangeUsage.cpuPct,
        steadyCpuPct: exchangeUsage.steadyCpuPct,
        avgRssMb: exchangeUsage.avgRssMb,
        // progress comes once a second: the count spans a whole number of seconds within the run
        msgsPerS: (endMessages - startMessages) / Math.max(1, Math.round(elapsedS) - 1),
        latencyMs: null,
        latencyWhat: 'the source of E',
      },
      await metricsRow('forwarder', fw, mean(backbone.legMs), 'added: forwarder stamp → receiver stamp'),
      await metricsRow('receiver', rx, mean(baseline.e2eMs), 'one-way E → receiver stamp, direct (trades)'),
    ];
    return { ws, agents };
  });
}

/** The seed study's table, with a plain `ws` client alongside. */
export async function benchReferenceRate({ log }: AgentBench, seconds: number): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  log(`reference rate: exchange → forwarder → receiver, 30 trades/s + 100 bookTicker/s for ${seconds} s…`);
  const { ws: wsRow, agents: rows } = await referenceRate(seconds);
  const rowConditions = (row: ReferenceRow): BenchFigure['conditions'] =>
    conditionsNow({
      trades_per_s: 30,
      book_ticker_per_s: 100,
      duration_s: round(row.durationS, 1),
      setting:
        'exchange and the plain ws server on core 0; forwarder, receiver (paired) and the plain ws client on core 1',
      cpu_source:
        row.agent === 'forwarder' || row.agent === 'receiver'
          ? `metrics/${row.agent}.json (process.cpuUsage)`
          : '/proc/<pid>/stat, sampled each second',
    });
  const wsCpu: BenchFigure = {
    name: 'ws_reference.reference_rate_cpu',
    value: wsRow.cpuPct,
    unit: '% of a core',
    conditions: { ...rowConditions(wsRow), msgs_per_s: round(wsRow.msgsPerS, 1) },
  };
  const wsSteadyCpu: BenchFigure = {
    ...wsCpu,
    name: 'ws_reference.reference_rate_cpu_steady',
    value: wsRow.steadyCpuPct,
    conditions: { ...wsCpu.conditions, what: `after the first ${STEADY_AFTER_S} s` },
  };
  const wsRss: BenchFigure = {
    name: 'ws_reference.reference_rate_rss',
    value: wsRow.avgRssMb,
    unit: 'MB',
    conditions: rowConditions(wsRow),
  };
  const wsLatency: BenchFigure = {
    name: 'ws_reference.reference_rate_latency_avg',
    value: wsRow.latencyMs ?? NaN,
    unit: 'ms',
    conditions: { ...rowConditions(wsRow), what: wsRow.latencyWhat },
  };
  figures.push(wsCpu, wsSteadyCpu, wsRss, wsLatency);
  const under = (value: number, limit: number): boolean => Number.isFinite(value) && value < limit;
  for (const row of rows) {
    const conditions = rowConditions(row);
    figures.push(
      { name: `reference.${row.agent}.duration`, value: row.durationS, unit: 's', conditions },
      withRatio(
        {
          name: `reference.${row.agent}.cpu`,
          value: row.cpuPct,
          unit: '% of a core',
          conditions,
          target: { text: '< 2% of a core', met: under(row.cpuPct, 2) },
        },
        wsCpu,
      ),
      withRatio(
        {
          name: `reference.${row.agent}.cpu_steady`,
          value: row.steadyCpuPct,
          unit: '% of a core',
          conditions: { ...conditions, what: `after the first ${STEADY_AFTER_S} s (JIT warm-up)` },
        },
        wsSteadyCpu,
      ),
      withRatio(
        {
          name: `reference.${row.agent}.rss`,
          value: row.avgRssMb,
          unit: 'MB',
          conditions: { ...conditions, what: 'average RSS' },
          target: { text: '< 100 MB', met: under(row.avgRssMb, 100) },
        },
        wsRss,
      ),
      { name: `reference.${row.agent}.throughput`, value: row.msgsPerS, unit: 'msg/s', conditions },
    );
    if (row.latencyMs !== null)
      figures.push(
        withRatio(
          {
            name: `reference.${row.agent}.latency_avg`,
            value: row.latencyMs,
            unit: 'ms',
            conditions: { ...conditions, what: row.latencyWhat },
          },
          wsLatency,
        ),
      );
  }
  return figures;
}
