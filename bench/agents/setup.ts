/**
 * What every agent benchmark shares: the cores, starting a real agent bundle or a load generator,
 * a run's temporary folder, waiting for the receiver's samples, reading its CSV with the analysis'
 * own reader, and the figures' common conditions and ratios to the `ws` reference.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArrivalEpoch, readPathColumns, type PathColumns } from '../../lib/analysis';
import type { Json } from '../../lib/json';
import { AGENT_NODE_FLAGS } from '../../lib/node-flags';
import { resultsCsvName, type PathName } from '../../lib/samples';
import { describe } from '../../lib/stats';
import type { BenchFigure } from '../figures';
import { Proc, pinningNote, sleep, startAgentProcess, startWorker } from '../harness';
import { START_SIGNAL } from '../workers/common';
import { MESSAGE_BYTES } from '../ws-reference';

/** What each agent benchmark gets: a log line writer and the `ws_reference.*` figures by short name. */
export interface AgentBench {
  log: (line: string) => void;
  ws: (name: string) => BenchFigure | undefined;
}

/** The generator's core and the core of the agent under test. */
export const LOAD_CORE = 0;
export const AGENT_CORE = 1;
export const TOKEN = 'bench-relay-token';
export const STREAM = 'btcusdt@trade';
/** Relay pings would only add noise to a run of a few seconds. */
export const QUIET_PINGS_MS = 600_000;
/** The JIT compiles the hot paths during the first seconds: CPU "in steady state" is after this. */
export const STEADY_AFTER_S = 15;
/** No run may hang the suite: every wait has a bound. */
export const READY_TIMEOUT_MS = 15_000;

export type AgentName = 'exchange' | 'forwarder' | 'receiver';

/** A real agent bundle, as the local run starts it (same Node flags), pinned to a core. */
export async function startAgent(agent: AgentName, config: Json, core: number): Promise<Proc> {
  const proc = startAgentProcess(agent, config, core);
  await proc.waitFor((l) => l.event === 'ready' || l.event === 'error', 'ready', READY_TIMEOUT_MS);
  const error = proc.latest((l) => l.event === 'error');
  if (error !== undefined) throw proc.failure(`failed to start: ${String(error.message)}`);
  return proc;
}

/** Runs `body` with a fresh temporary folder and kills whatever it started, however it ends. */
export async function withRun<T>(
  label: string,
  body: (dir: string, procs: Proc[]) => Promise<T>,
): Promise<T> {
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

export const num = (value: unknown): number => (typeof value === 'number' ? value : NaN);

/** A load generator (bench/workers/) for one client on the load core, held until {@link startWhenConnected}. */
export async function startGenerator(
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
export async function startWhenConnected(gen: Proc, client: string): Promise<void> {
  await gen.waitFor((l) => l.connected === 1, client, READY_TIMEOUT_MS);
  gen.signal(START_SIGNAL);
}

/** A generator whose one client is the receiver under test (baseline, agent core), sending once it is connected. */
export async function loadReceiver(
  procs: Proc[],
  dir: string,
  worker: 'frames' | 'blaster',
  args: Json,
): Promise<{ gen: Proc; receiver: Proc }> {
  const { gen, port } = await startGenerator(procs, worker, args);
  const receiver = await startAgent('receiver', receiverConfig(port, dir), AGENT_CORE);
  procs.push(receiver);
  await startWhenConnected(gen, 'receiver connection');
  return { gen, receiver };
}

/** The same for a plain `ws` client (the `sink` worker, agent core), the receiver's reference. */
export async function loadSink(
  procs: Proc[],
  generatorArgs: Json,
  sinkArgs: Json,
): Promise<{ gen: Proc; sink: Proc }> {
  const { gen, port } = await startGenerator(procs, 'frames', generatorArgs);
  const sink = startWorker('sink', { url: `ws://127.0.0.1:${port}`, ...sinkArgs }, AGENT_CORE);
  procs.push(sink);
  await startWhenConnected(gen, 'sink connection');
  return { gen, sink };
}

/**
 * Stops the receiver once it has `count` samples on `path` (or they stopped coming), then reads that
 * path's CSV from `outDir`; `done` is the receiver's `done` event.
 */
export async function receiverSamples(
  receiver: Proc,
  outDir: string,
  path: PathName,
  count: number,
  timeoutMs: number,
): Promise<{ done: Json | undefined; rows: PathColumns }> {
  await waitForSamples(receiver, path, count, timeoutMs);
  const done = await receiver.stop();
  const rows = await readSamples(join(outDir, resultsCsvName(path)));
  return { done, rows };
}

/** Samples recorded so far on a receiver path, from its latest `progress`. */
export function recorded(receiver: Proc, path: PathName): number {
  const progress = receiver.latest((l) => l.event === 'progress');
  const paths = progress?.paths as Record<string, { samples?: number }> | undefined;
  return paths?.[path]?.samples ?? 0;
}

/** Waits until the receiver has recorded `count` samples on `path`, or nothing more came for 5 s. */
export async function waitForSamples(receiver: Proc, path: PathName, count: number, timeoutMs: number) {
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
export function forwarderConnected(forwarder: Proc, receivers: number): Promise<Json> {
  return forwarder.waitFor(
    (l) => l.event === 'progress' && l.exchange_connected === true && l.receivers_connected === receivers,
    'exchange and receivers connected',
    READY_TIMEOUT_MS,
  );
}

// ---------------------------------------------------------------------------------------------
// The receiver's CSV

/** Reads a path's CSV with the analysis' own reader (ids in `seq`, stamps in `arrivalNs`). */
export function readSamples(file: string): Promise<PathColumns> {
  return readPathColumns(createReadStream(file), file, { epoch: new ArrivalEpoch() });
}

/** Ids 1..count, each once, in order. */
export function contiguous(ids: Float64Array): boolean {
  for (let i = 0; i < ids.length; i += 1) if (ids[i] !== i + 1) return false;
  return true;
}

/** The mean of the values that are not NaN. */
export const mean = (values: Float64Array | null): number => (values && describe(values)?.mean) ?? NaN;

export const median = (values: readonly number[]): number =>
  describe(Float64Array.from(values))?.median ?? NaN;

export const receiverConfig = (exchangePort: number, outDir: string): Json => ({
  mode: 'baseline',
  exchangeUrl: `ws://127.0.0.1:${exchangePort}/ws/${STREAM}`,
  streams: [STREAM],
  outDir,
});

/** Sets `ratio_to_ws` (value ÷ the reference figure's value) in a figure's conditions. */
export function withRatio(figure: BenchFigure, reference: BenchFigure | undefined): BenchFigure {
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

export function conditionsNow(extra: BenchFigure['conditions']): BenchFigure['conditions'] {
  return {
    message_bytes: MESSAGE_BYTES,
    pinning: pinningNote(),
    node_flags: AGENT_NODE_FLAGS.join(' '),
    load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
    ...extra,
  };
}

export const round = (value: number, digits: number): number => Number(value.toFixed(digits));
