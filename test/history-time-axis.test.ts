/**
 * The trend charts' time axis reads well at every spacing of runs (lib/history/time-axis.ts), and
 * the trend draws the runs' paired delta against the market's activity.
 */
import { buildTrend, renderTrendCharts } from '../lib/history';
import { MARKET_TREND_CHART_ID } from '../lib/history/trend-charts';
import { historyRecordSchema, type HistoryRecord } from '../lib/history/record';
import { svgMarkCount, syntheticRecord } from './history-fixtures';

/** The labels of the time (x) axis of an SVG drawn by vega: the axis whose labels come first. */
function xAxisLabels(svg: string): string[] {
  const axes = [...svg.matchAll(/<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/gs)].map((m) =>
    [...(m[1] as string).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1] as string),
  );
  return axes[0] ?? [];
}

async function deltaTrendLabels(records: HistoryRecord[]): Promise<string[]> {
  const trend = buildTrend({ records, keys: [], skipped: [] }, { location: 'test' });
  const charts = await renderTrendCharts(trend);
  const chart = charts.find((c) => c.id === 'delta-trend');
  return xAxisLabels(chart?.svg ?? '');
}

describe('trend time axis', () => {
  it('labels runs seconds apart with their time of day, never ".500"', async () => {
    const records = [0, 1, 2].map((i) => syntheticRecord(i, { everyHours: 5 / 3600 }));

    const labels = await deltaTrendLabels(records);

    expect(labels.length).toBeGreaterThanOrEqual(2);
    for (const label of labels) expect(label).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('labels runs months apart with month and year', async () => {
    const records = [0, 1, 2, 3].map((i) => syntheticRecord(i, { everyHours: 24 * 60 }));

    const labels = await deltaTrendLabels(records);

    expect(labels.length).toBeGreaterThanOrEqual(2);
    for (const label of labels) expect(label).toMatch(/^[A-Z][a-z]{2} \d{4}$/);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('draws the paired delta against market activity when runs carry their market', async () => {
    const records = [0, 1, 2].map((i) =>
      historyRecordSchema.parse({
        ...syntheticRecord(i),
        market_events_per_s_median: [3, 30, 300][i],
        market_events_per_s_max: 1000,
        market_burst_share: 0.5,
        market_largest_burst: 443,
        market_busy_threshold_events_per_s: 50,
      }),
    );
    const trend = buildTrend({ records, keys: [], skipped: [] }, { location: 'test' });

    const charts = await renderTrendCharts(trend);

    const scatter = charts.find((c) => c.id === MARKET_TREND_CHART_ID);
    expect(scatter).toBeDefined();
    expect(svgMarkCount(scatter?.svg ?? '')).toBeGreaterThan(0);
  });
});
