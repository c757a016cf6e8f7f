/** Checks lib/clock against the system clock, for tests and benchmarks (not used by the agents). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { WallClock } from './clock';

/**
 * An independent reader of the system's realtime clock: a Python process that, for each line it
 * reads, answers with realtime − monotonic in ns: `time.time_ns()` (CLOCK_REALTIME, what
 * `date +%s%N` reads) bracketed by two `time.monotonic_ns()` readings (CLOCK_MONOTONIC), the
 * tightest bracket of 2,000. Node's `process.hrtime` reads the same CLOCK_MONOTONIC, so our clock
 * agrees with the system clock within `bound` exactly when our realtime − monotonic offset is within
 * `bound` of Python's: a comparison free of pipe and scheduling latency.
 */
export class SystemClockReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterableIterator<string>;

  constructor() {
    const script = [
      'import sys, time',
      'for _ in sys.stdin:',
      '    best = None',
      '    for _ in range(2000):',
      '        a = time.monotonic_ns(); r = time.time_ns(); b = time.monotonic_ns()',
      '        if best is None or b - a < best[0]: best = (b - a, r - (a + b) // 2)',
      '    sys.stdout.write(str(best[1]) + "\\n"); sys.stdout.flush()',
    ].join('\n');
    this.child = spawn('python3', ['-u', '-c', script]);
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** The system's realtime − monotonic offset, ns. */
  async offsetNs(): Promise<bigint> {
    this.child.stdin.write('\n');
    const { value } = await this.lines.next();
    return BigInt(value as string);
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

/** Our clock's realtime − monotonic offset, ns (within the ~100 ns of two hrtime reads). */
export function ourOffsetNs(clock: WallClock): bigint {
  const before = process.hrtime.bigint();
  const now = clock.nowNs();
  const after = process.hrtime.bigint();
  return now - (before + after) / 2n;
}
