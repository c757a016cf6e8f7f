/**
 * The trend's figures across runs come from the runs' merged histograms: local runs analysed for
 * real and recorded by recordRun (the record writer), against the percentiles of their raw CSVs; a
 * record written before histograms is shown but left out of the merged figures.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCommand } from '../cli/analyze';
import {
  appendHistory,
  historyRecordFromReport,
  parseHistoryRecord,
  recordRun,
  TREND_FILES,
  writeTrend,
} from '../lib/history';
import { HISTOGRAM_RELATIVE_ACCURACY, percentileSorted } from '../lib/stats';
import { LocalFolderStore } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';
import { writeRunFolder, type RunFolderOptions } from './history-fixtures';

const NOW = () => new Date('2026-01-20T00:00:00Z');

/** Each event's receiver time (ns) and end-to-end latency (ms) by trade id, from a run's CSV. */
async function csvRows(file: string): Promise<Map<number, { receiverNs: number; e2eMs: number }>> {
  const rows = new Map<number, { receiverNs: number; e2eMs: number }>();
  for (const line of (await readFile(file, 'utf8')).trimEnd().split('\n').slice(1)) {
    const cells = line.split(',');
    rows.set(Number(cells[0]), { receiverNs: Number(cells[3]), e2eMs: Number(cells[4]) });
  }
  return rows;
}

/** The raw data of runs: every paired delta (ms) and every baseline latency (ms), sorted. */
async function rawData(dirs: readonly string[]): Promise<{ delta: Float64Array; baseline: Float64Array }> {
  const delta: number[] = [];
  const baseline: number[] = [];
  for (const dir of dirs) {
    const a = await csvRows(join(dir, 'baseline-results.csv'));
    const b = await csvRows(join(dir, 'backbone-results.csv'));
    for (const [id, row] of a) {
      baseline.push(row.e2eMs);
      const other = b.get(id);
      if (other !== undefined) delta.push((other.receiverNs - row.receiverNs) / 1e6);
    }
  }
  return { delta: Float64Array.from(delta).sort(), baseline: Float64Array.from(baseline).sort() };
}

function within(merged: number | undefined, sorted: Float64Array, p: number): boolean {
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const scale = Math.max(
    Math.abs(sorted[lo] as number),
    Math.abs(sorted[Math.min(lo + 1, sorted.length - 1)] as number),
  );
  return (
    merged !== undefined &&
    Math.abs(merged - percentileSorted(sorted, p)) <= HISTOGRAM_RELATIVE_ACCURACY * scale + 1e-9
  );
}

describe('trend across runs', () => {
  let root: string;

  beforeEach(async () => {
    root = await tempDir();
  });
  afterEach(async () => {
    await removeDir(root);
  });

  it("takes its percentiles from the runs' merged histograms, and leaves out a record without them", async () => {
    // prepare: two small runs where the backbone is 1 ms ahead, one long run where it is 0.5 ms
    // behind (the median of the runs' medians says "ahead"; most events say "behind"), and a
    // fourth run whose record is written as before histograms
    const runs: [string, RunFolderOptions][] = [
      ['20260105-060000-aaaa', { startedAt: '2026-01-05T06:00:00Z', deltaUs: -1000, events: 400, seed: 1 }],
      ['20260106-060000-bbbb', { startedAt: '2026-01-06T06:00:00Z', deltaUs: -1000, events: 400, seed: 2 }],
      ['20260113-060000-cccc', { startedAt: '2026-01-13T06:00:00Z', deltaUs: 500, events: 1600, seed: 3 }],
    ];
    const store = new LocalFolderStore(root);
    const dirs: string[] = [];
    for (const [runId, options] of runs) {
      const dir = await writeRunFolder(root, runId, options);
      dirs.push(dir);
      const { report } = await analyzeCommand(dir);
      await recordRun(store, runId, report, { now: NOW, trend: false });
    }
    const oldDir = await writeRunFolder(root, '20260107-060000-dddd', {
      startedAt: '2026-01-07T06:00:00Z',
      deltaUs: -2000,
      seed: 4,
    });
    const { report: oldReport } = await analyzeCommand(oldDir);
    const {
      baseline_histogram: _a,
      backbone_histogram: _b,
      paired_delta_histogram: _c,
      ...before
    } = historyRecordFromReport(oldReport, { runId: '20260107-060000-dddd', now: NOW });
    await appendHistory(store, parseHistoryRecord(JSON.parse(JSON.stringify(before))));
    const raw = await rawData(dirs);

    // act
    const { trend } = await writeTrend(store, { now: NOW });

    // assert: one configuration, overall and per week
    const [overall] = trend.merged.overall;
    expect(trend.merged.overall).toHaveLength(1);
    expect(overall).toMatchObject({ week: null, runs: 4, merged_runs: 3 });
    expect(overall?.paired_delta?.count).toBe(raw.delta.length);
    for (const p of [50, 99, 99.9]) {
      const key = p === 50 ? 'p50' : p === 99 ? 'p99' : 'p999';
      expect({ p, delta: within(overall?.paired_delta?.[key], raw.delta, p) }).toEqual({ p, delta: true });
      expect({ p, baseline: within(overall?.baseline?.[key], raw.baseline, p) }).toEqual({
        p,
        baseline: true,
      });
    }
    // The merged median follows the events (behind); the median of the runs' medians would not.
    const medians = trend.runs.map((r) => r.paired_median_delta_ms as number).sort((a, b) => a - b);
    expect(percentileSorted(medians, 50)).toBeLessThan(0);
    expect(trend.summary.merged_delta_ms?.p50).toBeGreaterThan(0);
    expect(trend.summary.runs_without_histograms).toBe(1);
    expect(trend.headline).toContain(
      `over all ${raw.delta.length.toLocaleString('en-US')} matched events of the runs, from their merged histograms`,
    );
    expect(trend.headline).toContain('(1 run recorded before histograms not included)');
    expect(trend.merged.weekly.map((g) => [g.week, g.runs, g.merged_runs])).toEqual([
      ['2026-01-12', 1, 1],
      ['2026-01-05', 3, 2],
    ]);
    const html = await readFile(join(root, TREND_FILES.html), 'utf8');
    expect(html).toContain('<table id="merged">');
    expect(html).toContain('1 succeeded run(s) recorded before histograms');
    expect(html.match(/<tr class="succeeded"/g)).toHaveLength(4);
    // history.json lists the runs without their bins; history.jsonl keeps the whole records.
    const json = await readFile(join(root, TREND_FILES.json), 'utf8');
    const lines = (await readFile(join(root, TREND_FILES.jsonl), 'utf8')).trimEnd().split('\n');
    expect(json).not.toContain('paired_delta_histogram');
    expect(lines.map((l) => parseHistoryRecord(JSON.parse(l)).paired_delta_histogram !== null)).toEqual([
      true,
      true,
      false,
      true,
    ]);
  });
});
