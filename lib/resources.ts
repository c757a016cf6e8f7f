/**
 * Resource use, the figures of the seed's WebSocket library study: CPU % (of one core), RSS and
 * messages per second. An agent samples itself every second into `metrics/<agent>.csv` as the run
 * goes, summarised in `metrics/<agent>.json` at the end with the host's clock error bound
 * ({@link ResourceSampler}). (A process that writes no metrics is sampled from /proc by the bench:
 * bench/process-usage.ts.)
 */
import { execFile } from 'node:child_process';
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
