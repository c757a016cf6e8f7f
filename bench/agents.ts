/**
 * The agents measured like the seed's WebSocket library study: the real bundles
 * (dist/agents/*.js) as separate processes with the agents' Node flags, each pinned to one core —
 * core 0 for the load generator (and the counting sinks or the receiver when the forwarder is under
 * test), core 1 for the agent under test — and every figure set beside the plain `ws` reference
 * measured in the same invocation.
 *
 * Load generators are chosen so that they are not the bottleneck: maximum rates and bursts come
 * from a generator that writes ready-made frames in bulk (bench/raw-ws.ts), the 1,000 msg/s
 * latencies from the same plain `ws` server the reference uses, so that a ratio compares the agent
 * with a plain `ws` client and nothing else.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_NODE_FLAGS } from '../lib/node-flags';
import { agentsDir } from '../lib/paths';
import type { ResourceSummary } from '../lib/resources';
import { resultsCsvName, type PathName } from '../lib/samples';
import { RELAY_PATH } from '../lib/wire';
import { ArrivalEpoch, readPathColumns, type PathColumns } from '../lib/analysis';
import { describe, type Distribution } from '../lib/stats';
import type { BenchFigure } from './figures';
import { Proc, pinned, pinningNote, sleep, startWorker, type Json } from './harness';
import type { BurstFigures, FramePhase, RelaySinkResult } from './workers';
import { START_SIGNAL, burstFigures } from './workers';
import { MESSAGE_BYTES, benchWsReference, plainHop } from './ws-reference';

export interface BenchAgentsOptions {
  /** How long the reference-rate run lasts, s (the seed study's table: 60). */
  referenceSeconds?: number;
  /** Figures already measured in this invocation: the `ws_reference.*` ones are reused. */
  previous?: readonly BenchFigure[];
  log?: (line: string) => void;
}

/** The generator's core and the core of the agent under test. */
const LOAD_CORE = 0;
const AGENT_CORE = 1;
const TOKEN = 'bench-relay-token';
const STREAM = 'btcusdt@trade';
const BURST_SIZE = 735;
/** The seed study's rate: 30 trades/s + 100 bookTicker/s. */
const REFERENCE_MSGS_PER_S = 130;
const BURSTS = 5;
/** Relay pings would only add noise to a run of a few seconds. */
const QUIET_PINGS_MS = 600_000;
/** The JIT compiles the hot paths during the first seconds: CPU "in steady state" is after this. */
const STEADY_AFTER_S = 15;
/** No run may hang the suite: every wait has a bound. */
const READY_TIMEOUT_MS = 15_000;

type AgentName = 'exchange' | 'forwarder' | 'receiver';

/** A real agent bundle, as the local run starts it (same Node flags), pinned to a core. */
async function startAgent(agent: AgentName, config: Json, core: number): Promise<Proc> {
  const { command, args } = pinned(core, process.execPath, [
    ...AGENT_NODE_FLAGS,
    join(agentsDir(), `${agent}.js`),
    '--config-json',
    JSON.stringify(config),
  ]);
  const proc = new Proc(agent, command, args);
  await proc.waitFor((l) => l.event === 'ready' || l.event === 'error', 'ready', READY_TIMEOUT_MS);
  const error = proc.latest((l) => l.event === 'error');
  if (error !== undefined) throw proc.failure(`failed to start: ${String(error.message)}`);
  return proc;
}

/** Runs `body` with a fresh temporary folder and kills whatever it started, however it ends. */
async function withRun<T>(label: string, body: (dir: string, procs: Proc[]) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `feedpath-bench-${label}-`));
  const procs: Proc[] = [];
  try {
    return await body(dir, procs);
  } finally {
    for (const proc of procs) proc.kill();
    await Promise.all(procs.map((p) => p.exited));
    await rm(dir, { recursive: true, force: true });
  }
}

const num = (value: unknown): number => (typeof value === 'number' ? value : NaN);

/** A load generator (bench/workers.ts) for one client on the load core, held until {@link startWhenConnected}. */
async function startGenerator(
  procs: Proc[],
  worker: 'frames' | 'blaster',
  args: Json,
): Promise<{ gen: Proc; port: number }> {
  const gen = startWorker(worker, { ...args, clients: 1, waitSignal: true }, LOAD_CORE);
  procs.push(gen);
  const { port } = await gen.waitFor((l) => l.ready === true, 'ready', READY_TIMEOUT_MS);
  return { gen, port: num(port) };
}

/** Lets a generator start once its client is connected. */
async function startWhenConnected(gen: Proc, client: string): Promise<void> {
  await gen.waitFor((l) => l.connected === 1, client, READY_TIMEOUT_MS);
  gen.signal(START_SIGNAL);
}

/** Samples recorded so far on a receiver path, from its latest `progress`. */
function recorded(receiver: Proc, path: PathName): number {
  const progress = receiver.latest((l) => l.event === 'progress');
  const paths = progress?.paths as Record<string, { samples?: number }> | undefined;
  return paths?.[path]?.samples ?? 0;
}

/** Waits until the receiver has recorded `count` samples on `path`, or nothing more came for 5 s. */
async function waitForSamples(receiver: Proc, path: PathName, count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    const now = recorded(receiver, path);
    if (now >= count) return;
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 5_000) {
      return;
    }
    await sleep(50);
  }
}

/** Waits for a forwarder `progress` with every receiver and the exchange connected. */
function forwarderConnected(forwarder: Proc, receivers: number): Promise<Json> {
  return forwarder.waitFor(
    (l) => l.event === 'progress' && l.exchange_connected === true && l.receivers_connected === receivers,
    'exchange and receivers connected',
    READY_TIMEOUT_MS,
  );
}

// ---------------------------------------------------------------------------------------------
// Resource use of a process we did not write metrics for (the exchange), from /proc

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return clockTicks;
}

/** CPU time (user + system, s) and RSS (MB) of a process; undefined once it is gone. */
export function procUsage(pid: number): { cpuS: number; rssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    const cpuS = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    return { cpuS, rssMb: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

interface ProcReading {
  cpuS: number;
  atMs: number;
}

/** What {@link ProcSampler} measured. */
interface ProcUsage {
  cpuPct: number;
  /** CPU % after the first `steadyAfterS` seconds (NaN if the run was shorter). */
  steadyCpuPct: number;
  avgRssMb: number;
  maxRssMb: number;
  seconds: number;
}

/** Samples a process' CPU and RSS every `intervalMs` until stopped. */
class ProcSampler {
  private readonly rss: number[] = [];
  private readonly readings: ProcReading[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const usage = procUsage(this.pid);
    if (usage === undefined) return;
    // An exited process not yet reaped has a stat but no VmRSS.
    if (this.readings.length > 0 && Number.isFinite(usage.rssMb)) this.rss.push(usage.rssMb);
    this.readings.push({ cpuS: usage.cpuS, atMs: performance.now() });
  }

  stop(steadyAfterS = STEADY_AFTER_S): ProcUsage {
    this.sample();
    clearInterval(this.timer);
    const first = this.readings[0];
    const last = this.readings.at(-1);
    const pct = (a: ProcReading | undefined, b: ProcReading | undefined): number =>
      a && b && b.atMs > a.atMs ? (100 * (b.cpuS - a.cpuS)) / ((b.atMs - a.atMs) / 1000) : NaN;
    const steadyFrom = this.readings.find((r) => first && r.atMs - first.atMs >= steadyAfterS * 1000);
    return {
      cpuPct: pct(first, last),
      steadyCpuPct: steadyFrom === last ? NaN : pct(steadyFrom, last),
      avgRssMb: this.rss.reduce((a, b) => a + b, 0) / this.rss.length,
      maxRssMb: Math.max(...this.rss),
      seconds: first && last ? (last.atMs - first.atMs) / 1000 : NaN,
    };
  }
}

/** An agent's CPU % from its metrics/<agent>.csv, over the samples after the first `afterS` seconds. */
async function steadyCpuFromMetrics(csvPath: string, afterS = STEADY_AFTER_S): Promise<number> {
  const lines = (await readFile(csvPath, 'utf8')).trim().split('\n').slice(1);
  const cpu = lines.slice(afterS).map((line) => Number(line.split(',')[1]));
  return cpu.length === 0 ? NaN : cpu.reduce((a, b) => a + b, 0) / cpu.length;
}

// ---------------------------------------------------------------------------------------------
// The receiver's CSV

/** Reads a path's CSV with the analysis' own reader (ids in `seq`, stamps in `arrivalNs`). */
function readSamples(file: string): Promise<PathColumns> {
  return readPathColumns(createReadStream(file), file, { epoch: new ArrivalEpoch() });
}

/** Ids 1..count, each once, in order. */
function contiguous(ids: Float64Array): boolean {
  for (let i = 0; i < ids.length; i += 1) if (ids[i] !== i + 1) return false;
  return true;
}

/** The mean of the values that are not NaN. */
const mean = (values: Float64Array | null): number => (values && describe(values)?.mean) ?? NaN;

const median = (values: readonly number[]): number => describe(Float64Array.from(values))?.median ?? NaN;

// ---------------------------------------------------------------------------------------------
// The measurements

const receiverConfig = (exchangePort: number, outDir: string): Json => ({
  mode: 'baseline',
  exchangeUrl: `ws://127.0.0.1:${exchangePort}/ws/${STREAM}`,
  streams: [STREAM],
  outDir,
});

interface ReceiverMaxResult {
  sent: number;
  rows: number;
  lost: number | null;
  inOrder: boolean;
  msgsPerS: number;
  overallMsgsPerS: number;
}

/**
 * The receiver's maximum: `count` messages as fast as TCP lets the generator write them, so the
 * receiver is saturated throughout; its rate is read from its own stamps (first tenth left out as
 * warm-up), and every message must be in the CSV.
 */
async function receiverMax(count: number): Promise<ReceiverMaxResult> {
  return withRun('receiver-max', async (dir, procs) => {
    const { gen, port } = await startGenerator(procs, 'frames', { phases: [{ count, rate: 0 }] });
    const receiver = await startAgent('receiver', receiverConfig(port, dir), AGENT_CORE);
    procs.push(receiver);
    await startWhenConnected(gen, 'receiver connection');
    await gen.waitFor((l) => l.done === true, 'all sent', 60_000);
    await waitForSamples(receiver, 'baseline', count, 60_000);
    const done = await receiver.stop();
    const status = (done?.paths as Record<string, { lost?: number | null }> | undefined)?.baseline;
    const rows = await readSamples(join(dir, resultsCsvName('baseline')));
    const warm = Math.floor(rows.rows / 10);
    const last = rows.rows - 1;
    return {
      sent: count,
      rows: rows.rows,
      lost: status?.lost ?? null,
      inOrder: contiguous(rows.seq),
      msgsPerS: ((last - warm) * 1e9) / ((rows.arrivalNs[last] ?? 0) - (rows.arrivalNs[warm] ?? 0)),
      overallMsgsPerS: (last * 1e9) / ((rows.arrivalNs[last] ?? NaN) - (rows.arrivalNs[0] ?? NaN)),
    };
  });
}

/** A plain `ws` client (the reference sink) fed by the same generator as {@link receiverMax}. */
async function wsClientMax(count: number): Promise<number> {
  return withRun('ws-client-max', async (_dir, procs) => {
    const { gen, port } = await startGenerator(procs, 'frames', { phases: [{ count, rate: 0 }] });
    const sink = startWorker('sink', { url: `ws://127.0.0.1:${port}`, count, timeoutMs: 60_000 }, AGENT_CORE);
    procs.push(sink);
    await startWhenConnected(gen, 'sink connection');
    const result = await sink.waitFor((l) => 'received' in l, 'sink result', 70_000);
    return num(result.msgsPerS);
  });
}

/** One-way latency of a direct hop (plain `ws` server → receiver) at `rate` msg/s, from the CSV. */
async function receiverLatency(count: number, rate: number): Promise<Distribution | null> {
  return withRun('receiver-latency', async (dir, procs) => {
    const { gen, port } = await startGenerator(procs, 'blaster', { count, rate });
    const receiver = await startAgent('receiver', receiverConfig(port, dir), AGENT_CORE);
    procs.push(receiver);
    await startWhenConnected(gen, 'receiver connection');
    await gen.waitFor((l) => l.done === true, 'all sent', (count / rate) * 1000 + 30_000);
    await waitForSamples(receiver, 'baseline', count, 10_000);
    await receiver.stop();
    const rows = await readSamples(join(dir, resultsCsvName('baseline')));
    return describe(rows.e2eMs);
  });
}

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
    const { gen, port } = await startGenerator(procs, 'frames', { phases: burstPhases });
    const receiver = await startAgent('receiver', receiverConfig(port, dir), AGENT_CORE);
    procs.push(receiver);
    await startWhenConnected(gen, 'receiver connection');
    const done = await gen.waitFor((l) => l.done === true, 'all sent', 30_000);
    await waitForSamples(receiver, 'baseline', burstTotal, 10_000);
    await receiver.stop();
    const rows = await readSamples(join(dir, resultsCsvName('baseline')));
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
    const { gen, port } = await startGenerator(procs, 'frames', { phases: burstPhases });
    const sink = startWorker(
      'sink',
      {
        url: `ws://127.0.0.1:${port}`,
        count: burstTotal,
        burstSize: BURST_SIZE,
        bursts: BURSTS,
        timeoutMs: 30_000,
      },
      AGENT_CORE,
    );
    procs.push(sink);
    await startWhenConnected(gen, 'sink connection');
    const result = await sink.waitFor((l) => 'received' in l, 'sink result', 40_000);
    const done = await gen.waitFor((l) => l.done === true, 'all sent', 10_000);
    return {
      bursts: (result.bursts as BurstFigures[] | undefined) ?? [],
      senderUs: (done.burstSendUs as number[] | undefined) ?? [],
    };
  });
}

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
        expect: phase.count,
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
    const sampler = new ProcSampler(forwarder.pid, 100);
    gen.signal(START_SIGNAL);
    const { results } = await sinks.waitFor((l) => 'results' in l, 'sink results', 130_000);
    const usage = sampler.stop();
    const done = await forwarder.stop();
    return {
      sinks: results as RelaySinkResult[],
      links: (done?.receivers as Json[] | undefined) ?? [],
      maxRssMb: usage.maxRssMb,
    };
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
    await waitForSamples(receiver, 'backbone', count, 10_000);
    await receiver.stop();
    const rows = await readSamples(join(dir, 'receiver', resultsCsvName('backbone')));
    return rows.legMs && describe(rows.legMs);
  });
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
    const sampler = new ProcSampler(exchange.pid, 1_000);
    const sinkSampler = new ProcSampler(wsSink.pid, 1_000);
    wsGen.signal(START_SIGNAL);
    const startMessages = num(exchange.latest((l) => l.event === 'progress')?.messages);
    const started = performance.now();
    await sleep(seconds * 1000);
    const exchangeUsage = sampler.stop();
    const sinkUsage = sinkSampler.stop();
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

// ---------------------------------------------------------------------------------------------
// Figures

/** Sets `ratio_to_ws` (value ÷ the reference figure's value) in a figure's conditions. */
function withRatio(figure: BenchFigure, reference: BenchFigure | undefined): BenchFigure {
  if (reference === undefined || !Number.isFinite(figure.value) || !Number.isFinite(reference.value))
    return figure;
  return {
    ...figure,
    conditions: {
      ...figure.conditions,
      ws_reference: reference.name,
      ratio_to_ws: Number((figure.value / reference.value).toFixed(3)),
    },
  };
}

function conditionsNow(extra: BenchFigure['conditions']): BenchFigure['conditions'] {
  return {
    message_bytes: MESSAGE_BYTES,
    pinning: pinningNote(),
    node_flags: AGENT_NODE_FLAGS.join(' '),
    load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
    ...extra,
  };
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** Every agent figure (see the file comment), with the `ws` reference's ratios. */
export async function benchAgents(options: BenchAgentsOptions = {}): Promise<BenchFigure[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`  ${line}\n`));
  const figures: BenchFigure[] = [];
  let reference = (options.previous ?? []).filter((f) => f.name.startsWith('ws_reference.'));
  if (reference.length === 0) {
    log('ws reference (not measured yet in this invocation)…');
    reference = await benchWsReference();
    figures.push(...reference);
  }
  const ws = (name: string): BenchFigure | undefined =>
    reference.find((f) => f.name === `ws_reference.${name}`);
  const wsMax = ws('max_msgs_per_s');

  // 1. The receiver: its maximum, against a plain ws client fed by the same generator.
  const maxCount = 500_000;
  log(`receiver: ${maxCount.toLocaleString('en-US')} messages as fast as it takes them…`);
  const rxMax = await receiverMax(maxCount);
  const wsClient: BenchFigure = {
    name: 'ws_reference.client_max_msgs_per_s',
    value: Math.round(await wsClientMax(maxCount)),
    unit: 'msg/s',
    conditions: conditionsNow({
      messages: maxCount,
      what: 'plain ws client (JSON.parse per message) fed by the generator the receiver gets',
    }),
  };
  const rxAllKept = rxMax.rows === rxMax.sent && rxMax.lost === 0 && rxMax.inOrder;
  figures.push(
    wsClient,
    withRatio(
      {
        name: 'receiver.max_msgs_per_s',
        value: Math.round(rxMax.msgsPerS),
        unit: 'msg/s',
        conditions: conditionsNow({
          messages: rxMax.sent,
          csv_rows: rxMax.rows,
          lost: rxMax.lost ?? 'unknown',
          in_order: rxMax.inOrder,
          overall_msgs_per_s: Math.round(rxMax.overallMsgsPerS),
          ratio_to_ws_client: round(rxMax.msgsPerS / wsClient.value, 3),
          what: 'parsed, stamped and written to its CSV; rate from its own stamps after the first tenth',
          generator: 'ready-made frames written in bulk (core 0), receiver on core 1',
        }),
        target: {
          text: '≥ 150,000 msg/s, every message in the CSV',
          met: rxAllKept && rxMax.msgsPerS >= 150_000,
        },
      },
      wsMax,
    ),
  );

  // 3. Burst fidelity (the receiver's direct hop), against a plain ws client given the same bursts.
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

  // 2. The forwarder.
  const fwdCount1 = 1_000_000;
  log(`forwarder: ${fwdCount1.toLocaleString('en-US')} messages to 1 receiver…`);
  const one = await forwarderRun({ receivers: 1, phase: { count: fwdCount1, rate: 0 } });
  const oneSink = one.sinks[0];
  const oneRate = oneSink?.msgsPerS ?? NaN;
  const oneComplete = oneSink?.frames === fwdCount1;
  figures.push(
    withRatio(
      {
        name: 'forwarder.max_msgs_per_s_1_receiver',
        value: Math.round(oneRate),
        unit: 'msg/s',
        conditions: conditionsNow({
          messages: fwdCount1,
          relayed_frames: oneSink?.frames ?? 0,
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
  const tenComplete = ten.sinks.every((s) => s.frames === fwdCount10);
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

  // Latency at 1,000 msg/s — the receiver's direct hop, the forwarder's relay and a plain ws relay —
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

  const stalledRate = 50_000;
  const stalledCount = stalledRate * 6;
  log(`forwarder: 3 receivers, one stalled, ${stalledRate.toLocaleString('en-US')} msg/s for 6 s…`);
  const stalled = await forwarderRun({
    receivers: 3,
    stall: [2],
    phase: { count: stalledCount, rate: stalledRate },
  });
  const stalledLink = stalled.links[2] ?? {};
  const keptUp = stalled.sinks.filter((s) => !s.stalled).every((s) => s.frames === stalledCount);
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

  // 4. The seed study's table, with a plain ws client alongside.
  const seconds = options.referenceSeconds ?? 60;
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
