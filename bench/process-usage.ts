/**
 * Another process' CPU and RSS, read from /proc by whoever started it: the bench samples processes
 * that write no metrics of their own (the exchange, a plain `ws` client, the link) this way. An
 * agent samples itself with lib/resources.ts `ResourceSampler`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
interface ProcessUsageSummary {
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
    return {
      cpuPct: pct(first, last),
      steadyCpuPct: steadyFrom === last ? NaN : pct(steadyFrom, last),
      avgRssMb: this.rss.length === 0 ? NaN : this.rss.reduce((a, b) => a + b, 0) / this.rss.length,
      maxRssMb: this.rss.length === 0 ? NaN : this.rss.reduce((a, b) => Math.max(a, b)),
      seconds: first && last ? (last.atMs - first.atMs) / 1000 : NaN,
    };
  }
}
