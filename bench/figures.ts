/** One measured figure, as `npm run bench` prints it and writes it to bench/out/figures.json. */
export interface BenchFigure {
  /** What was measured, e.g. `receiver.max_msgs_per_s`. */
  name: string;
  value: number;
  /** e.g. `msg/s`, `ms`, `MB`, `%`, `s`. */
  unit: string;
  /** How: message size, rate, pinning, duration, counts… */
  conditions: Record<string, string | number | boolean>;
  /** The target it is checked against, if any, and whether it was met. */
  target?: { text: string; met: boolean };
}
