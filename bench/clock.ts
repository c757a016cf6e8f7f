/** How close lib/clock is to the system realtime clock, read independently by a Python process. */
import { WallClock } from '../lib/clock';
import { SystemClockReader, ourOffsetNs } from '../lib/clock-check';
import type { BenchFigure } from './figures';

export async function benchClock(durationMs = 10_000): Promise<BenchFigure[]> {
  const clock = new WallClock();
  const reader = new SystemClockReader();
  const errorsUs: number[] = [];
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    const system = await reader.offsetNs();
    errorsUs.push(Number(ourOffsetNs(clock) - system) / 1000);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  reader.close();
  clock.stop();
  const abs = errorsUs.map(Math.abs).sort((a, b) => a - b);
  const conditions = {
    reader: 'python3 time.time_ns() − time.monotonic_ns() vs our nowNs() − hrtime',
    readings: errorsUs.length,
    duration_s: durationMs / 1000,
  };
  const worst = abs.at(-1) ?? NaN;
  return [
    { name: 'clock.median_abs_error', value: abs[Math.floor(abs.length / 2)] ?? NaN, unit: 'µs', conditions },
    {
      name: 'clock.max_abs_error',
      value: worst,
      unit: 'µs',
      conditions,
      target: { text: '≤ 20 µs', met: worst <= 20 },
    },
  ];
}
