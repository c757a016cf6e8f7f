/** The market panel stacked under the run report's latency over time (charts.ts). */
import type { Report } from './model';

/** Bursts marked on the market panel: the seconds holding the largest ones. */
const BURSTS_MARKED = 10;

/**
 * The market panel under latency over time: events per second (all streams) as bars, the seconds
 * with the largest bursts marked with their size. `origin` is the latency chart's 0 in Unix seconds,
 * `chartWidth` the latency chart's width.
 */
export function marketPanel(
  report: Report,
  origin: number,
  chartWidth: number,
): Record<string, unknown> | null {
  const market = report.market;
  if (!market || market.per_second.length === 0) return null;
  const bucket = market.bucket_seconds;
  // A replay's seconds are the capture's: drawn `speed` times shorter, from its first event at 0.
  const replay = market.replay;
  const first = market.per_second[0]?.second ?? 0;
  const place = (second: number): number =>
    replay === null ? second - origin : (second - first) / replay.speed;
  const width = replay === null ? bucket : bucket / replay.speed;
  const bySecond = new Map<number, { events: number; burst: number }>();
  for (const row of market.per_second) {
    const entry = bySecond.get(row.second) ?? { events: 0, burst: 0 };
    entry.events += row.events;
    entry.burst = Math.max(entry.burst, row.largest_burst);
    bySecond.set(row.second, entry);
  }
  const bars = [...bySecond.entries()].map(([second, e]) => ({
    start: place(second),
    end: place(second) + width,
    events: e.events / bucket,
    burst: e.burst,
  }));
  const marked = bars
    .filter((b) => b.burst >= 2)
    .sort((a, b) => b.burst - a.burst)
    .slice(0, BURSTS_MARKED)
    .map((b) => ({ t: (b.start + b.end) / 2, events: b.events, label: `${b.burst}` }));
  return {
    width: chartWidth,
    height: 120,
    title: {
      text: 'Market activity (exchange event time)',
      subtitle: `events per second${bucket > 1 ? ` (mean over ${bucket} s)` : ''}${replay === null ? '' : ` of the capture, replayed at ${replay.speed}×`}; ▼ the largest bursts, with their events in one exchange ms`,
    },
    layer: [
      {
        data: { values: bars },
        mark: { type: 'rect', color: '#7f7f7f' },
        encoding: {
          x: { field: 'start', type: 'quantitative', title: 'seconds since the first arrival' },
          x2: { field: 'end' },
          y: { field: 'events', type: 'quantitative', title: 'events/s' },
          y2: { datum: 0 },
        },
      },
      {
        data: { values: marked },
        mark: {
          type: 'point',
          shape: 'triangle-down',
          filled: true,
          color: '#d62728',
          size: 60,
          yOffset: -6,
        },
        encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'events', type: 'quantitative' } },
      },
      {
        data: { values: marked },
        mark: { type: 'text', color: '#d62728', fontSize: 10, dy: -16 },
        encoding: {
          x: { field: 't', type: 'quantitative' },
          y: { field: 'events', type: 'quantitative' },
          text: { field: 'label' },
        },
      },
    ],
  };
}
