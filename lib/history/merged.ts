/**
 * Percentiles across runs, from the runs' merged histograms: the percentile of every event the
 * runs measured, not a percentile (or a median) of each run's percentiles, which weighs a short run
 * like a long one and cannot recover a tail. Per configuration, overall and per week (the weeks
 * Athena's `date_trunc('week', …)` gives: Monday 00:00 UTC). Records without histograms (written
 * before them) are counted and left out of these figures.
 */
import {
  HISTOGRAM_SCHEME,
  histogramPercentiles,
  mergeHistograms,
  type Histogram,
  type HistogramPercentiles,
} from '../stats';
import type { HistoryRecord } from './record';

/** The histograms a record may hold, by the name the trend gives them. */
const MERGED_MEASURES = {
  paired_delta: 'paired_delta_histogram',
  baseline: 'baseline_histogram',
  backbone: 'backbone_histogram',
} as const;
type MergedMeasure = keyof typeof MERGED_MEASURES;

export interface MergedGroup {
  /** The configuration (seriesOf: regions and streams). */
  series: string;
  /** The week's Monday (YYYY-MM-DD, UTC); null for the whole history. */
  week: string | null;
  /** Succeeded runs in the group. */
  runs: number;
  /** Of those, runs whose histograms are merged here (the others were recorded before histograms). */
  merged_runs: number;
  /** Percentiles of the merged histograms, ms; null when no run of the group has that histogram. */
  paired_delta: HistogramPercentiles | null;
  baseline: HistogramPercentiles | null;
  backbone: HistogramPercentiles | null;
}

export interface MergedFigures {
  /** Every configuration over the whole history, and across configurations (series `all`). */
  overall: MergedGroup[];
  /** Per configuration and week, newest week first. */
  weekly: MergedGroup[];
  /** Succeeded runs without any histogram: shown in the table, left out of these figures. */
  runs_without_histograms: number;
}

/** The Monday (UTC) of an ISO time's week, as YYYY-MM-DD. */
function weekOf(iso: string): string {
  const t = new Date(iso);
  const monday =
    Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()) - ((t.getUTCDay() + 6) % 7) * 86_400_000;
  return new Date(monday).toISOString().slice(0, 10);
}

function hasHistogram(r: HistoryRecord): boolean {
  return Object.values(MERGED_MEASURES).some((key) => r[key]?.scheme === HISTOGRAM_SCHEME);
}

function mergeGroup(series: string, week: string | null, runs: readonly HistoryRecord[]): MergedGroup {
  const merged = runs.filter(hasHistogram);
  const figures = (measure: MergedMeasure): HistogramPercentiles | null => {
    const histograms = merged
      .map((r) => r[MERGED_MEASURES[measure]])
      .filter((h): h is Histogram => h !== null && h.scheme === HISTOGRAM_SCHEME);
    return histograms.length === 0 ? null : histogramPercentiles(mergeHistograms(histograms));
  };
  return {
    series,
    week,
    runs: runs.length,
    merged_runs: merged.length,
    paired_delta: figures('paired_delta'),
    baseline: figures('baseline'),
    backbone: figures('backbone'),
  };
}

function groupBy(
  runs: readonly HistoryRecord[],
  key: (r: HistoryRecord) => string,
): Map<string, HistoryRecord[]> {
  const groups = new Map<string, HistoryRecord[]>();
  for (const r of runs) {
    const k = key(r);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [r]);
    else group.push(r);
  }
  return groups;
}

/** The merged figures of a history's succeeded runs, `seriesOf` naming each run's configuration. */
export function mergedFigures(
  records: readonly HistoryRecord[],
  seriesOf: (r: HistoryRecord) => string,
): MergedFigures {
  const succeeded = records.filter((r) => r.status === 'succeeded');
  const bySeries = groupBy(succeeded, seriesOf);
  const overall = [...bySeries.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([series, runs]) => mergeGroup(series, null, runs));
  // Across configurations too when there are several (one line for one configuration says it twice).
  if (bySeries.size > 1) overall.push(mergeGroup('all', null, succeeded));
  const weekly: MergedGroup[] = [];
  for (const [series, runs] of [...bySeries.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [week, inWeek] of groupBy(runs, (r) => weekOf(r.started_at)))
      weekly.push(mergeGroup(series, week, inWeek));
  }
  weekly.sort(
    (a, b) => (b.week as string).localeCompare(a.week as string) || a.series.localeCompare(b.series),
  );
  return {
    overall,
    weekly,
    runs_without_histograms: succeeded.filter((r) => !hasHistogram(r)).length,
  };
}
