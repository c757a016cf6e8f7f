/** The history of multi-receiver runs: one record per receiver, the trend's series per receiver. */
import { historyCommand } from '../cli/history';
import { analyzeReceivers } from '../lib/analysis/receivers';
import { readHistory, recordReceivers, receiverOf, type HistoryRecord } from '../lib/history';
import { runMetrics } from '../lib/metrics-emf';
import { LocalFolderStore, readText } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';
import { writeReceiversRun, type ReceiverFixture } from './receivers-fixtures';

const RECEIVERS: ReceiverFixture[] = [
  { name: 'eu-central-1', baselineUs: 116_000, deltaUs: -2_000, clockBoundMs: 0.05 },
  { name: 'us-east-1', baselineUs: 80_000, deltaUs: -400 },
];

describe('history of multi-receiver runs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  /** Two runs a day apart, each analysed for real and recorded per receiver. */
  async function recordTwoRuns(): Promise<LocalFolderStore> {
    const store = new LocalFolderStore(dir);
    for (const [runId, startedAt] of [
      ['run-a', '2024-08-08T10:00:00.000Z'],
      ['run-b', '2024-08-09T10:00:00.000Z'],
    ] as const) {
      await writeReceiversRun(`${dir}/${runId}`, RECEIVERS, { runId, startedAt });
      const analysed = await analyzeReceivers(
        store,
        runId,
        RECEIVERS.map((r) => r.name),
      );
      await recordReceivers(
        store,
        runId,
        RECEIVERS.map((r) => ({ name: r.name, report: analysed.receivers[r.name]?.report ?? null })),
        { trend: runId === 'run-b' },
      );
    }
    return store;
  }

  it('records one record per receiver, each with the figures of its own report', async () => {
    // prepare, act
    const store = await recordTwoRuns();
    const { records, keys } = await readHistory(store);

    // assert
    expect(keys.map((k) => k.slice(k.lastIndexOf('/') + 1)).sort()).toEqual([
      'run-a@eu-central-1.json',
      'run-a@us-east-1.json',
      'run-b@eu-central-1.json',
      'run-b@us-east-1.json',
    ]);
    expect(records.map((r) => [r.run_id, r.receiver, r.receiver_region])).toEqual([
      ['run-a', 'eu-central-1', 'eu-central-1'],
      ['run-a', 'us-east-1', 'us-east-1'],
      ['run-b', 'eu-central-1', 'eu-central-1'],
      ['run-b', 'us-east-1', 'us-east-1'],
    ]);
    const eu = records[0] as HistoryRecord;
    expect(eu).toMatchObject({
      paired_median_delta_ms: -2,
      paired_practical: true,
      receiver_clock_error_bound_ms: 0.05,
      forwarder_clock_error_bound_ms: 0.2,
      report: 'run-a/receivers/eu-central-1/report.html',
    });
    expect(records[1]).toMatchObject({
      paired_median_delta_ms: expect.closeTo(-0.4, 9),
      paired_practical: false,
    });
  });

  it('groups the trend by receiver: a series, merged histograms and counts per receiver', async () => {
    // prepare, act
    const store = await recordTwoRuns();
    const trend = JSON.parse((await readText(store, 'history.json')) ?? 'null');

    // assert
    expect(trend.summary.series).toEqual([
      'ap-northeast-1 → eu-central-1 · btcusdt@trade',
      'ap-northeast-1 → us-east-1 · btcusdt@trade',
    ]);
    expect(trend.summary.by_receiver).toEqual([
      expect.objectContaining({ receiver: 'eu-central-1', paired_runs: 2, backbone_faster_runs: 2 }),
      expect.objectContaining({ receiver: 'us-east-1', paired_runs: 2, no_significant_difference_runs: 2 }),
    ]);
    const merged = trend.merged.overall as { series: string; runs: number; paired_delta: { p50: number } }[];
    expect(merged.map((g) => [g.series, g.runs])).toEqual([
      ['ap-northeast-1 → eu-central-1 · btcusdt@trade', 2],
      ['ap-northeast-1 → us-east-1 · btcusdt@trade', 2],
      ['all', 4],
    ]);
    // The merged histogram's median is within its bins' 0.5% of each receiver's delta.
    expect(merged[0]?.paired_delta.p50).toBeCloseTo(-2, 1);
    expect(merged[1]?.paired_delta.p50).toBeCloseTo(-0.4, 2);
    expect(trend.headline).toMatch(
      /^2 runs from 2024-08-08 to 2024-08-09 \(4 records \(one per receiver\), /,
    );
    expect(trend.headline).toContain('Backbone faster per receiver: eu-central-1 2 of 2, us-east-1 0 of 2.');
  });

  it('names a receiver by its name, with its region when that is not the name', () => {
    expect(receiverOf({ receiver: null, receiver_region: 'eu-central-1' })).toBe('eu-central-1');
    expect(receiverOf({ receiver: 'eu-central-1', receiver_region: 'eu-central-1' })).toBe('eu-central-1');
    expect(receiverOf({ receiver: 'frankfurt', receiver_region: null })).toBe('frankfurt');
    expect(receiverOf({ receiver: 'frankfurt', receiver_region: 'local' })).toBe('frankfurt (local)');
  });

  it('adds a Receiver dimension set for a receiver of a multi-receiver run only', async () => {
    const store = await recordTwoRuns();
    const [first] = (await readHistory(store)).records;
    const dimensions = (record: HistoryRecord) =>
      JSON.parse(JSON.stringify(runMetrics(record)?.serializeMetrics()))._aws.CloudWatchMetrics[0].Dimensions;

    expect(dimensions(first as HistoryRecord)).toEqual([
      ['service', 'ForwarderRegion', 'ReceiverRegion', 'Stream'],
      ['service', 'ForwarderRegion', 'ReceiverRegion'],
      ['service', 'ForwarderRegion', 'ReceiverRegion', 'Receiver'],
    ]);
    expect(dimensions({ ...(first as HistoryRecord), receiver: null })).toEqual([
      ['service', 'ForwarderRegion', 'ReceiverRegion', 'Stream'],
      ['service', 'ForwarderRegion', 'ReceiverRegion'],
    ]);
  });

  it('backfills a multi-receiver run analysed without records: one record per receiver, the matrix skipped', async () => {
    // prepare: a run analysed (its receivers' reports and the matrix written) but never recorded
    const store = new LocalFolderStore(dir);
    await writeReceiversRun(`${dir}/run-c`, RECEIVERS, {
      runId: 'run-c',
      startedAt: '2024-08-10T10:00:00.000Z',
    });
    await analyzeReceivers(
      store,
      'run-c',
      RECEIVERS.map((r) => r.name),
    );
    const log: string[] = [];

    // act
    const result = await historyCommand(dir, { log: (line) => log.push(line) });

    // assert: each receiver its own record under the run's id (not one record overwriting the other)
    const { records, keys } = await readHistory(store);
    expect(result.backfilled).toEqual(['run-c', 'run-c']);
    expect(keys.map((k) => k.slice(k.lastIndexOf('/') + 1)).sort()).toEqual([
      'run-c@eu-central-1.json',
      'run-c@us-east-1.json',
    ]);
    expect(records.map((r) => [r.run_id, r.receiver, r.report])).toEqual([
      ['run-c', 'eu-central-1', 'run-c/receivers/eu-central-1/report.html'],
      ['run-c', 'us-east-1', 'run-c/receivers/us-east-1/report.html'],
    ]);
    expect(log.filter((line) => line.includes('not a feedpath report'))).toEqual([]);
  });
});
