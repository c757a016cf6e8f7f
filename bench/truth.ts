/**
 * `npm run bench -- truth`: does a local run recover its profile? A paced and a bursty external
 * exchange (an ExchangeServer in this process, E stamped at send) feed `feedpath run --exchange …
 * --profile …` (the shipped command, agents and links as processes, the links compensating for
 * the lab's loopback hops as every run does); the figures are each path's median and the paired
 * median delta minus the profile's, and the lab check's raw overhead (measured − what the links
 * applied, from their ground truth) with the residual beside it. Then one loopback hop and the link
 * emulator's CPU at 1,000 chunks/s.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net, { type Socket } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExchangeServer } from '../agents/exchange/server';
import type { LabCheck } from '../lib/analysis/lab';
import { wallClock } from '../lib/clock';
import { labHopsSchema, measureLoopbackHop, type LabHops } from '../lib/loopback-hop';
import { AGENT_NODE_FLAGS } from '../lib/node-flags';
import { agentsDir, projectRoot } from '../lib/project-files';
import type { Profile } from '../lib/profile';
import { exponentialSampler, mulberry32 } from '../lib/random';
import { percentileSorted } from '../lib/stats';
import { processUsage } from './process-usage';
import type { BenchFigure } from './figures';
import { Proc, sleep } from './harness';

/** The issue's profile: jitter ≤ 1 ms on every link. */
const TRUTH_PROFILE: Profile = {
  links: {
    'exchange-receiver': { delayMs: 80, jitterMs: 1 },
    'exchange-forwarder': { delayMs: 5, jitterMs: 0.2 },
    'forwarder-receiver': { delayMs: 60, jitterMs: 0.5 },
  },
};
const RATE_PER_S = 100;
/** Bursty source: every second, this many trades back to back on top of the paced ones. */
const BURST_SIZE = 100;
const DURATION_S = 20;
const TARGET_PATH_MS = 0.3;
const TARGET_DELTA_MS = 0.2;

/** The profile's medians (delay + exponential extra per link; the backbone sums two), by simulation. */
function profileMedians(
  profile: Profile,
  draws = 400_000,
): { baseline: number; backbone: number; delta: number } {
  const random = mulberry32(20261129);
  const link = (name: keyof Profile['links']) => {
    const spec = profile.links[name] ?? { delayMs: 0, jitterMs: 0 };
    const extra = exponentialSampler(spec.jitterMs, random);
    return () => spec.delayMs + extra();
  };
  const er = link('exchange-receiver');
  const ef = link('exchange-forwarder');
  const fr = link('forwarder-receiver');
  const a = new Float64Array(draws);
  const b = new Float64Array(draws);
  const d = new Float64Array(draws);
  for (let i = 0; i < draws; i++) {
    a[i] = er();
    b[i] = ef() + fr();
    d[i] = (b[i] as number) - (a[i] as number);
  }
  const median = (x: Float64Array) => percentileSorted(x.sort(), 50);
  return { baseline: median(a), backbone: median(b), delta: median(d) };
}

/** A trade source on loopback: `RATE_PER_S` evenly, plus an optional burst every second. */
async function startSource(burst: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = new ExchangeServer({
    host: '127.0.0.1',
    port: 0,
    pingIntervalMs: 20_000,
    pongTimeoutMs: 60_000,
    maxConnectionMs: 24 * 3600 * 1000,
    shutdownNoticeMs: 600_000,
    clock: wallClock(),
  });
  const port = await server.listen();
  let id = 1;
  const trade = (): void => {
    server.publish({
      stream: 'btcusdt@trade',
      kind: 'trade',
      data: { e: 'trade', E: 0, s: 'BTCUSDT', t: id, p: '100.00', q: '0.010', T: 0, m: false, M: true },
      tradeLagUs: 0,
    });
    id += 1;
  };
  const periodNs = BigInt(Math.round(1e9 / RATE_PER_S));
  let next = process.hrtime.bigint();
  let nextBurst = next + 1_000_000_000n;
  // A 1 ms tick sends what is due: the pace holds even when a tick is late.
  const tick = setInterval(() => {
    const now = process.hrtime.bigint();
    while (next <= now) {
      trade();
      next += periodNs;
    }
    if (burst > 0 && nextBurst <= now) {
      for (let i = 0; i < burst; i++) trade();
      nextBurst += 1_000_000_000n;
    }
  }, 1);
  return {
    url: `ws://127.0.0.1:${port}`,
    stop: async () => {
      clearInterval(tick);
      await server.stop();
    },
  };
}

interface TruthRun {
  baseline: number;
  backbone: number;
  delta: number;
  lab: LabCheck | undefined;
  /** run.json `lab`: the hop the run measured and each link's compensation. */
  hops: LabHops | undefined;
  samples: number;
}

/** One `feedpath run` against a source; returns its medians and lab check. */
async function runAgainst(burst: number, durationS: number): Promise<TruthRun> {
  const dir = await mkdtemp(join(tmpdir(), 'feedpath-bench-truth-'));
  const source = await startSource(burst);
  try {
    const profile = join(dir, 'profile.json');
    await writeFile(profile, JSON.stringify(TRUTH_PROFILE));
    const out = join(dir, 'out');
    const cli = join(projectRoot(), 'dist', 'cli.js');
    const args = ['run', '--exchange', source.url, '--profile', profile, '--streams', 'btcusdt@trade'];
    args.push('--duration', String(durationS), '--out', out);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`feedpath run exited with ${code}`);
    const [runId] = await readdir(out);
    const runFile = JSON.parse(await readFile(join(out, runId as string, 'run.json'), 'utf8')) as {
      lab?: unknown;
    };
    const report = JSON.parse(await readFile(join(out, runId as string, 'report.json'), 'utf8')) as {
      latency_ms: Record<'baseline' | 'backbone', { median: number; count: number } | null>;
      paired: { delta_ms: { median: number } | null } | null;
      lab?: LabCheck;
    };
    return {
      baseline: report.latency_ms.baseline?.median ?? NaN,
      backbone: report.latency_ms.backbone?.median ?? NaN,
      delta: report.paired?.delta_ms?.median ?? NaN,
      lab: report.lab,
      hops: runFile.lab === undefined ? undefined : labHopsSchema.parse(runFile.lab),
      samples: report.latency_ms.baseline?.count ?? 0,
    };
  } finally {
    await source.stop();
    if (process.env.FEEDPATH_BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

/** The link agent (as a run starts it) carrying `ratePerS` 64-byte chunks: its CPU, %. */
async function linkCpuAt(ratePerS: number, durationS: number): Promise<number> {
  const sinkSockets = new Set<Socket>();
  const sink = net.createServer({ noDelay: true }, (socket) => {
    sinkSockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkPort = (sink.address() as net.AddressInfo).port;
  const spec = { delayMs: 50, jitterMs: 1 };
  const config = { name: 'bench', target: { port: sinkPort }, forward: spec, reverse: spec };
  const link = new Proc('link', process.execPath, [
    ...AGENT_NODE_FLAGS,
    join(agentsDir(), 'link.js'),
    '--config-json',
    JSON.stringify(config),
  ]);
  try {
    const ready = await link.waitFor((l) => l.event === 'ready', 'ready', 15_000);
    const client = net.connect({ port: Number(ready.port), host: '127.0.0.1', noDelay: true });
    client.on('error', () => undefined);
    await new Promise((resolve) => client.once('connect', resolve));
    const message = 'x'.repeat(63) + '\n';
    const periodNs = BigInt(Math.round(1e9 / ratePerS));
    let next = process.hrtime.bigint();
    // Separate writes 1 ms apart at most reach the link as separate chunks (Nagle is off).
    const tick = setInterval(() => {
      const now = process.hrtime.bigint();
      while (next <= now) {
        client.write(message);
        next += periodNs;
      }
    }, 1);
    await sleep(2_000); // warm-up: the JIT
    const start = processUsage(link.pid);
    const startedMs = performance.now();
    await sleep(durationS * 1000);
    const end = processUsage(link.pid);
    const seconds = (performance.now() - startedMs) / 1000;
    clearInterval(tick);
    client.destroy();
    return start && end ? (100 * (end.cpuS - start.cpuS)) / seconds : NaN;
  } finally {
    await link.stop(3_000);
    for (const socket of sinkSockets) socket.destroy();
    await new Promise((resolve) => sink.close(resolve));
  }
}

/** The truth section: profile recovery for a paced and a bursty source, and the link's CPU. */
export async function benchTruth(durationS = DURATION_S): Promise<BenchFigure[]> {
  const expected = profileMedians(TRUTH_PROFILE);
  const figures: BenchFigure[] = [];
  for (const [source, burst] of [
    ['paced', 0],
    ['bursty', BURST_SIZE],
  ] as const) {
    const loadBefore = loadavg()[0] ?? NaN;
    const run = await runAgainst(burst, durationS);
    const conditions = {
      source:
        burst === 0
          ? `${RATE_PER_S} trades/s evenly`
          : `${RATE_PER_S} trades/s evenly + ${burst} back to back every second`,
      profile: `${Object.entries(TRUTH_PROFILE.links)
        .map(([name, link]) => `${name} ${link.delayMs} ± ${link.jitterMs}`)
        .join(', ')} ms`,
      command: `feedpath run --exchange ws://… --profile … --streams btcusdt@trade --duration ${durationS}`,
      events: run.samples,
      cpus: availableParallelism(),
      // The errors grow with what else the machine runs: a preempted process stamps late.
      load_avg_1m: Number(Math.max(loadBefore, loadavg()[0] ?? NaN).toFixed(2)),
      // What each link took off its delays for the lab's hops (2 × the hop the run measured).
      link_compensation_ms: run.hops?.linkCompensationMs ?? NaN,
      run_hop_us: Number((run.hops?.hop?.medianUs ?? NaN).toFixed(1)),
    };
    const paced = burst === 0;
    const check = (name: string, measured: number, profileMs: number, bound: number): BenchFigure => {
      const error = measured - profileMs;
      return {
        name: `truth.${source}.${name}_error`,
        value: error,
        unit: 'ms',
        conditions: { ...conditions, measured_ms: measured, profile_ms: Number(profileMs.toFixed(3)) },
        ...(paced ? { target: { text: `|error| ≤ ${bound} ms`, met: Math.abs(error) <= bound } } : {}),
      };
    };
    figures.push(check('baseline_median', run.baseline, expected.baseline, TARGET_PATH_MS));
    figures.push(check('backbone_median', run.backbone, expected.backbone, TARGET_PATH_MS));
    figures.push(check('paired_delta_median', run.delta, expected.delta, TARGET_DELTA_MS));
    for (const leg of ['baseline', 'backbone', 'paired_delta'] as const) {
      const overhead = run.lab?.overhead[leg]?.overhead_ms;
      figures.push({
        name: `truth.${source}.lab_overhead_${leg}_median`,
        value: overhead?.median ?? NaN,
        unit: 'ms',
        conditions: {
          ...conditions,
          what: "measured − what the links applied (lab check): the lab's raw overhead, before its hop compensation",
          residual_median_ms: run.lab?.overhead[leg]?.residual_ms?.median ?? NaN,
          p99_ms: overhead?.p99 ?? NaN,
          // How late the links released (release − due), the emulator's own share of the overhead.
          links_late_median_us: Object.entries(run.lab?.links ?? {})
            .map(([name, l]) => `${name} ${((l.late_ms?.median ?? NaN) * 1000).toFixed(0)}`)
            .join(', '),
        },
      });
    }
  }
  const hop = await measureLoopbackHop({ messages: 300, intervalMs: 10 });
  figures.push({
    name: 'truth.loopback_hop_one_way',
    value: hop.medianUs,
    unit: 'µs',
    conditions: {
      what: 'half the round trip to an echo process (lib/loopback-hop.ts, as a run measures it at its start), a 150-byte message every 10 ms (idle processes wake up for each)',
      p90_us: Number(hop.p90Us.toFixed(1)),
      floor:
        'the baseline crosses 2 such hops, the backbone 4: each link releases 2 hops early (hop compensation) so that the paths carry the profile',
    },
  });
  const loadBefore = loadavg()[0] ?? NaN;
  const cpu = await linkCpuAt(1_000, 10);
  figures.push({
    name: 'truth.link_cpu_at_1000_chunks_per_s',
    value: cpu,
    unit: '%',
    conditions: {
      setting: 'the link agent as a process (shipped Node flags), 64-byte chunks, 50 ± 1 ms, one connection',
      duration_s: 10,
      node_flags: AGENT_NODE_FLAGS.join(' '),
      load_avg_1m: Number(Math.max(loadBefore, loadavg()[0] ?? NaN).toFixed(2)),
    },
  });
  return figures;
}
