/**
 * Resource use, the figures of the seed's WebSocket library study: CPU % (of one core), RSS and
 * messages per second. An agent samples itself every second into `metrics/<agent>.csv` as the run
 * goes, summarised in `metrics/<agent>.json` at the end with the host's clock error bound
 * ({@link ResourceSampler}); a process that writes no metrics (the exchange, a benchmark's plain `ws`
 * client, the link) is sampled from /proc by whoever started it ({@link ProcessSampler}).
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { agentMetricsSchema, type AgentMetrics } from './agent-files';

/** Sampling period. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 1_000;
/** `chronyc tracking` gets this long before the bound is reported as unknown (null). */
const CHRONYC_TIMEOUT_MS = 2_000;

/** One sample: the interval that just ended. */
export interface ResourceSample {
  /** End of the interval, ms since the epoch. */
  timeMs: number;
  /** CPU time (user + system) over wall time, % of one core. */
  cpuPct: number;
  rssMb: number;
  /** All counted messages per second. */
  msgsPerS: number;
  /** Per counter (e.g. per path), messages per second. */
  perCounter: Record<string, number>;
}

/** `metrics/<agent>.json`: its schema lives with the reader's (lib/agent-files.ts). */
export type ResourceSummary = AgentMetrics;

export interface ResourceSamplerOptions {
  agent: string;
  /** The results folder: files go to `<dir>/metrics/`. */
  dir: string;
  /** Cumulative message counts by name (e.g. `{ baseline: n, backbone: m }`), read once a sample. */
  counters: () => Record<string, number>;
  /** [intervalMs=1000] */
  intervalMs?: number;
  /** Called after each sample (agents report progress from here). */
  onSample?: (sample: ResourceSample) => void;
  /** Reads the clock error bound; chrony by default (tests inject). */
  clockErrorBound?: () => Promise<number | null>;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

function stats(values: readonly number[]): { avg: number | null; max: number | null } {
  if (values.length === 0) return { avg: null, max: null };
  let sum = 0;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v > max) max = v;
  }
  return { avg: sum / values.length, max };
}

/** Samples the process once a second until {@link ResourceSampler.stop}. */
export class ResourceSampler {
  private readonly samples: ResourceSample[] = [];
  private readonly timer: NodeJS.Timeout;
  private lastCpu = process.cpuUsage();
  private lastHr = process.hrtime.bigint();
  private lastCounts: Record<string, number>;
  private readonly startedAt = Date.now();
  private writing: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private csvFailed = false;

  private constructor(
    private readonly options: ResourceSamplerOptions,
    private readonly csv: FileHandle,
    readonly csvPath: string,
    readonly jsonPath: string,
    private readonly names: string[],
    private readonly clockBoundAtStart: number | null,
  ) {
    this.lastCounts = { ...options.counters() };
    this.timer = setInterval(() => this.sample(), options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Creates `<dir>/metrics/<agent>.csv`, reads the clock bound, and starts sampling. */
  static async start(options: ResourceSamplerOptions): Promise<ResourceSampler> {
    const metricsDir = join(options.dir, 'metrics');
    await mkdir(metricsDir, { recursive: true });
    const csvPath = join(metricsDir, `${options.agent}.csv`);
    const jsonPath = join(metricsDir, `${options.agent}.json`);
    const names = Object.keys(options.counters());
    const csv = await open(csvPath, 'w');
    const header = ['time_ms', 'cpu_pct', 'rss_mb', 'msgs_per_s', ...names.map((n) => `${n}_msgs_per_s`)];
    await csv.write(`${header.join(',')}\n`);
    const bound = await (options.clockErrorBound ?? chronyClockErrorBoundMs)();
    return new ResourceSampler(options, csv, csvPath, jsonPath, names, bound);
  }

  private sample(): void {
    const hr = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const wallUs = Number(hr - this.lastHr) / 1000;
    if (wallUs <= 0) return;
    const cpuUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    const counts = this.options.counters();
    const perCounter: Record<string, number> = {};
    let total = 0;
    for (const name of this.names) {
      const rate = (((counts[name] ?? 0) - (this.lastCounts[name] ?? 0)) * 1e6) / wallUs;
      perCounter[name] = round(rate, 1);
      total += rate;
    }
    const sample: ResourceSample = {
      timeMs: Date.now(),
      cpuPct: round((cpuUs / wallUs) * 100, 2),
      rssMb: round(process.memoryUsage.rss() / 1048576, 2),
      msgsPerS: round(total, 1),
      perCounter,
    };
    this.lastHr = hr;
    this.lastCpu = cpu;
    this.lastCounts = { ...counts };
    this.samples.push(sample);
    const row = [
      sample.timeMs,
      sample.cpuPct,
      sample.rssMb,
      sample.msgsPerS,
      ...this.names.map((n) => perCounter[n]),
    ];
    // A failed write (a full disk) must not become an unhandled rejection that kills the agent:
    // the samples stay in memory for the summary, and the CSV keeps what it had.
    this.writing = this.writing
      .then(async () => {
        if (!this.csvFailed) await this.csv.write(`${row.join(',')}\n`);
      })
      .catch(() => {
        this.csvFailed = true;
      });
    this.options.onSample?.(sample);
  }

  /** Stops sampling, closes the CSV, writes the JSON summary and returns it. */
  async stop(extra: Record<string, unknown> = {}): Promise<ResourceSummary> {
    if (!this.stopped) {
      this.stopped = true;
      clearInterval(this.timer);
      await this.writing;
      await this.csv.close();
    }
    const counts = this.options.counters();
    const bound = await (this.options.clockErrorBound ?? chronyClockErrorBoundMs)();
    const cpu = stats(this.samples.map((s) => s.cpuPct));
    const rss = stats(this.samples.map((s) => s.rssMb));
    const rate = stats(this.samples.map((s) => s.msgsPerS));
    const counters: ResourceSummary['counters'] = {};
    let totalMsgs = 0;
    for (const name of this.names) {
      const r = stats(this.samples.map((s) => s.perCounter[name] ?? 0));
      const total = counts[name] ?? 0;
      totalMsgs += total;
      counters[name] = {
        total,
        avg_msgs_per_s: r.avg === null ? null : round(r.avg, 1),
        max_msgs_per_s: r.max,
      };
    }
    const summary: ResourceSummary = {
      agent: this.options.agent,
      duration_s: round((Date.now() - this.startedAt) / 1000, 3),
      samples: this.samples.length,
      avg_cpu_pct: cpu.avg === null ? null : round(cpu.avg, 2),
      max_cpu_pct: cpu.max,
      avg_rss_mb: rss.avg === null ? null : round(rss.avg, 2),
      max_rss_mb: rss.max,
      avg_msgs_per_s: rate.avg === null ? null : round(rate.avg, 1),
      max_msgs_per_s: rate.max,
      total_msgs: totalMsgs,
      counters,
      clock_error_bound_ms: { start: this.clockBoundAtStart, end: bound },
      files: { csv: this.csvPath, json: this.jsonPath },
    };
    // Validated by the schema the analysis reads it with: a writer that drifts fails here, loudly.
    const document = agentMetricsSchema.parse({ ...summary, ...extra });
    await writeFile(this.jsonPath, `${JSON.stringify(document, null, 2)}\n`);
    return summary;
  }
}

/**
 * The clock error bound chrony reports, ms: |System time offset| + Root dispersion + Root delay / 2
 * (the true time lies within it, per chronyc(1)). Null when `chronyc tracking` is not available.
 */
export function parseChronyTracking(output: string): number | null {
  const seconds = (label: string): number | undefined => {
    const match = new RegExp(`^${label}\\s*:\\s*(-?[0-9.]+(?:e-?[0-9]+)?) seconds`, 'mi').exec(output);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const offset = seconds('System time');
  const dispersion = seconds('Root dispersion');
  const delay = seconds('Root delay');
  if (offset === undefined || dispersion === undefined || delay === undefined) return null;
  return round((Math.abs(offset) + dispersion + delay / 2) * 1000, 6);
}

/** Runs `chronyc tracking`; null when chrony is absent or says nothing usable. */
export function chronyClockErrorBoundMs(): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('chronyc', ['tracking'], { timeout: CHRONYC_TIMEOUT_MS }, (error, stdout) => {
      resolve(error ? null : parseChronyTracking(stdout));
    });
  });
}

// ——— another process, from /proc ———

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return clockTicks;
}

/** CPU time (user + system, s) and RSS (MB) of a process; undefined once it is gone. */
export function processUsage(pid: number): { cpuS: number; rssMb: number } | undefined {
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

interface ProcessReading {
  cpuS: number;
  atMs: number;
}

/** What {@link ProcessSampler} measured. */
export interface ProcessUsageSummary {
  cpuPct: number;
  /** CPU % after the first `steadyAfterS` seconds (NaN if the run was shorter). */
  steadyCpuPct: number;
  avgRssMb: number;
  maxRssMb: number;
  seconds: number;
}

/** Samples another process' CPU and RSS from /proc every `intervalMs` until stopped. */
export class ProcessSampler {
  private readonly rss: number[] = [];
  private readonly readings: ProcessReading[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const usage = processUsage(this.pid);
    if (usage === undefined) return;
    // An exited process not yet reaped has a stat but no VmRSS.
    if (this.readings.length > 0 && Number.isFinite(usage.rssMb)) this.rss.push(usage.rssMb);
    this.readings.push({ cpuS: usage.cpuS, atMs: performance.now() });
  }

  /** Stops sampling; CPU over the whole time and after the first `steadyAfterS` seconds (JIT warm-up). */
  stop(steadyAfterS: number): ProcessUsageSummary {
    this.sample();
    clearInterval(this.timer);
    const first = this.readings[0];
    const last = this.readings.at(-1);
    const pct = (a: ProcessReading | undefined, b: ProcessReading | undefined): number =>
      a && b && b.atMs > a.atMs ? (100 * (b.cpuS - a.cpuS)) / ((b.atMs - a.atMs) / 1000) : NaN;
    const steadyFrom = this.readings.find((r) => first && r.atMs - first.atMs >= steadyAfterS * 1000);
    const rss = stats(this.rss);
    return {
      cpuPct: pct(first, last),
      steadyCpuPct: steadyFrom === last ? NaN : pct(steadyFrom, last),
      avgRssMb: rss.avg ?? NaN,
      maxRssMb: rss.max ?? NaN,
      seconds: first && last ? (last.atMs - first.atMs) / 1000 : NaN,
    };
  }
}
