/**
 * The trend report over a history: built from a generated history of 240 runs (with failures and a
 * routing change), with unreadable records reported and skipped, and failed runs shown as failed
 * with their cause.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { historyCommand } from '../cli/history';
import { ErrorCode, type FeedpathError } from '../lib/errors';
import {
  appendHistory,
  historyKey,
  readHistory,
  recordFailedRun,
  renderTrendCharts,
  TREND_CHART_IDS,
  TREND_FILES,
  writeTrend,
  type Trend,
} from '../lib/history';
import { LocalFolderStore } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';
import { svgMarkCount, syntheticRecord } from './history-fixtures';

const NOW = () => new Date('2026-03-01T00:00:00Z');

describe('trend report', () => {
  let dir: string;
  let store: LocalFolderStore;

  beforeEach(async () => {
    dir = await tempDir();
    store = new LocalFolderStore(dir);
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('counts a run for a path only when its verdict found a practical difference (older records: a significant one)', async () => {
    const practical = syntheticRecord(0);
    const tooSmall = { ...syntheticRecord(1), paired_median_delta_ms: -0.3, paired_practical: false };
    const older = { ...syntheticRecord(2), paired_practical: null };
    for (const record of [
      { ...practical, paired_median_delta_ms: -1.2, paired_practical: true },
      tooSmall,
      { ...older, paired_median_delta_ms: -1.0 },
    ])
      await appendHistory(store, record);

    const { trend } = await writeTrend(store, { now: NOW });

    expect(trend.summary).toMatchObject({
      paired_runs: 3,
      backbone_faster_runs: 2,
      baseline_faster_runs: 0,
      no_significant_difference_runs: 1,
    });
    expect(trend.headline).toContain('no practical difference in 1');
  });

  it('is built from a history of 240 runs: every chart drawn, every run in the table and the JSON Lines', async () => {
    // prepare: 240 runs every 6 h, every 25th failed
    const runs = Array.from({ length: 240 }, (_, i) => syntheticRecord(i, { failed: i % 25 === 24 }));
    for (const record of runs) await appendHistory(store, record);

    // act
    const started = Date.now();
    const { trend, files } = await writeTrend(store, { now: NOW });
    const elapsed = Date.now() - started;

    // assert
    expect(files.html).toBe(join(dir, 'history.html'));
    expect(trend.summary).toMatchObject({ runs: 240, succeeded: 231, failed: 9, paired_runs: 231 });
    expect(trend.summary.backbone_faster_runs + trend.summary.baseline_faster_runs).toBe(231);
    expect(trend.runs.map((r) => r.run_id)).toEqual(runs.map((r) => r.run_id));
    expect(trend.headline).toMatch(
      /^240 runs from 2026-01-01 to 2026-03-01 \(231 succeeded, 9 failed\)\. Backbone faster in \d+ of 231 paired runs/,
    );
    const json = JSON.parse(await readFile(join(dir, TREND_FILES.json), 'utf8')) as Trend;
    expect(json.runs).toHaveLength(240);
    const lines = (await readFile(join(dir, TREND_FILES.jsonl), 'utf8')).trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { run_id: string }).run_id)).toEqual(
      runs.map((r) => r.run_id),
    );
    const html = await readFile(join(dir, TREND_FILES.html), 'utf8');
    expect(html.match(/<tr class="(succeeded|failed)"/g)).toHaveLength(240);
    expect(html).not.toMatch(/<script/i);
    const charts = await renderTrendCharts(trend);
    expect(charts.map((c) => c.id)).toEqual([...TREND_CHART_IDS]);
    for (const chart of charts)
      expect({ id: chart.id, drawn: svgMarkCount(chart.svg) > 0 }).toEqual({ id: chart.id, drawn: true });
    // The delta chart draws a point per paired run.
    const delta = charts.find((c) => c.id === 'delta-trend')?.svg ?? '';
    expect(
      delta.match(/<g class="mark-symbol role-mark[^>]*>(.*?)<\/g>/s)?.[1]?.match(/<path/g),
    ).toHaveLength(231);
    expect(elapsed).toBeLessThan(20_000);
  });

  it('reports an unreadable record and skips it, keeping the others', async () => {
    // prepare
    await appendHistory(store, syntheticRecord(0));
    await appendHistory(store, syntheticRecord(1));
    const broken = 'history/year=2026/month=01/day=01/broken.json';
    const wrong = 'history/year=2026/month=01/day=01/wrong.json';
    await store.write(broken, '{"run_id": "x", ');
    await store.write(wrong, JSON.stringify({ ...syntheticRecord(2), status: 'maybe' }));

    // act
    const read = await readHistory(store);
    const { trend } = await writeTrend(store, { now: NOW });

    // assert
    expect(read.records.map((r) => r.run_id)).toEqual([syntheticRecord(0).run_id, syntheticRecord(1).run_id]);
    expect(read.skipped).toEqual([
      { key: broken, location: join(dir, broken), reason: expect.stringMatching(/^not valid JSON/) },
      {
        key: wrong,
        location: join(dir, wrong),
        reason: expect.stringMatching(/^not a history record: status: /),
      },
    ]);
    expect(trend.skipped).toEqual(read.skipped);
    const html = await readFile(join(dir, TREND_FILES.html), 'utf8');
    expect(html).toContain('2 unreadable history record(s) skipped');
    expect(html).toContain('<h2 id="skipped">Skipped records</h2>');
    expect(html).toContain(`<code>${join(dir, broken)}</code>: not valid JSON`);
  });

  it('shows a failed run as failed with its cause', async () => {
    // prepare: a good run, then one whose agent failed (no report)
    await appendHistory(store, syntheticRecord(0));

    // act
    const { record, key } = await recordFailedRun(
      store,
      {
        runId: '20260101-060000-bad1',
        startedAt: '2026-01-01T06:00:00Z',
        error: 'AgentFailed',
        cause: 'receiver: command failed (exit 1): cannot connect to the exchange',
        input: {
          mode: 'paired',
          streams: ['ethusdt@trade'],
          forwarderRegion: 'ap-northeast-1',
          receiverRegion: 'eu-central-1',
          label: 'nightly',
        },
      },
      { now: NOW },
    );

    // assert
    expect(key).toBe('history/year=2026/month=01/day=01/20260101-060000-bad1.json');
    expect(record).toMatchObject({
      status: 'failed',
      error: 'AgentFailed',
      cause: 'receiver: command failed (exit 1): cannot connect to the exchange',
      streams: ['ethusdt@trade'],
      label: 'nightly',
      report: null,
      paired_median_delta_ms: null,
    });
    const json = JSON.parse(await readFile(join(dir, TREND_FILES.json), 'utf8')) as Trend;
    expect(json.runs.map((r) => [r.run_id, r.status, r.cause])).toEqual([
      [syntheticRecord(0).run_id, 'succeeded', null],
      ['20260101-060000-bad1', 'failed', 'receiver: command failed (exit 1): cannot connect to the exchange'],
    ]);
    expect(json.headline).toMatch(/Latest run 20260101-060000-bad1 failed: receiver: command failed/);
    const html = await readFile(join(dir, TREND_FILES.html), 'utf8');
    const row = html.split('\n').find((line) => line.includes('data-run="20260101-060000-bad1"')) ?? '';
    expect(row).toContain('<tr class="failed"');
    expect(row).toContain(
      'failed (AgentFailed): receiver: command failed (exit 1): cannot connect to the exchange',
    );
  });

  it('keeps the most recently recorded record of a run written twice', async () => {
    const first = syntheticRecord(0);
    await appendHistory(store, first);
    // The same run recorded again later (e.g. re-analysed): same key, replaced.
    await appendHistory(store, { ...first, recorded_at: '2026-02-01T00:00:00.000Z', label: 'again' });
    // A copy under another day (a record moved by hand): the newer one wins.
    const moved = {
      ...first,
      started_at: '2026-01-02T00:00:00.000Z',
      recorded_at: '2026-01-15T00:00:00.000Z',
    };
    await mkdir(join(dir, 'history/year=2026/month=01/day=02'), { recursive: true });
    await writeFile(join(dir, historyKey(moved)), JSON.stringify(moved));

    const read = await readHistory(store);

    expect(read.keys).toHaveLength(2);
    expect(read.records).toHaveLength(1);
    expect(read.records[0]?.label).toBe('again');
  });
});

describe('feedpath history', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('writes an empty trend report for a results folder with no run yet', async () => {
    const result = await historyCommand(dir);

    expect(result.runs).toBe(0);
    expect(result.headline).toBe('No run has been recorded yet.');
    expect(await readFile(join(dir, TREND_FILES.html), 'utf8')).toContain('No run has been recorded yet.');
    expect(await readFile(join(dir, TREND_FILES.jsonl), 'utf8')).toBe('');
  });

  it('names a missing folder and a malformed S3 URI as bad input', async () => {
    const missing = join(dir, 'nope');

    const errors = await Promise.all(
      [missing, 's3:/bucket'].map((target) =>
        historyCommand(target).then(
          () => ({ code: 'none', message: 'no error' }),
          (e: unknown) => e as FeedpathError,
        ),
      ),
    );

    expect(errors.map((e) => [e.code, e.message])).toEqual([
      [ErrorCode.badInput, `results folder ${missing} does not exist`],
      [ErrorCode.badInput, '"s3:/bucket" is not an S3 URI: expected s3://bucket[/prefix]'],
    ]);
  });
});
