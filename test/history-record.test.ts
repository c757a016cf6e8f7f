/**
 * History records: built from a real analysis of a local run, appended by recordRun where a local
 * run's results folder keeps them, and written for a workflow execution that ended (failed runs
 * with their cause) from its EventBridge event.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCommand } from '../cli/analyze';
import { experimentSchema } from '../lib/cloud/input';
import { planRun } from '../lib/cloud/run';
import {
  executionStatusEventSchema,
  historyRecordFromReport,
  parseHistoryRecord,
  readHistory,
  recordExecutionEnd,
  recordFailedRun,
  recordRun,
  type ExecutionStatusEvent,
} from '../lib/history';
import { LocalFolderStore } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';
import { writeRunFolder } from './history-fixtures';

const NOW = () => new Date('2026-01-10T00:00:00Z');
const EXECUTION_ARN =
  'arn:aws:states:eu-central-1:123456789012:execution:feedpath-dev:0b1c2d3e-aaaa-bbbb-cccc-000000000001';
const START_MS = Date.parse('2026-01-05T06:00:00.123Z');

describe('history record', () => {
  let root: string;

  beforeEach(async () => {
    root = await tempDir();
  });
  afterEach(async () => {
    await removeDir(root);
  });

  it("is built from a local run's report: its id, time, paths, paired delta, loss and report link", async () => {
    // prepare: backbone 1 ms earlier on every event; trades 100, 200, 300 and 400 missing on the
    // baseline (400 is the last id: not a gap, so 3 are lost)
    const runId = '20260105-060000-ab12';
    const dir = await writeRunFolder(root, runId, {
      startedAt: '2026-01-05T06:00:00Z',
      deltaUs: -1000,
      baselineLossEvery: 100,
      label: 'laptop',
    });
    const { report } = await analyzeCommand(dir);

    // act
    const record = historyRecordFromReport(report, { reportKey: `${runId}/report.html`, now: NOW });

    // assert
    expect(parseHistoryRecord(JSON.parse(JSON.stringify(record)))).toEqual(record);
    expect(record).toMatchObject({
      schema: 'feedpath.history/1',
      run_id: runId,
      started_at: '2026-01-05T06:00:00.000Z',
      ended_at: '2026-01-05T06:00:30.000Z',
      recorded_at: '2026-01-10T00:00:00.000Z',
      label: 'laptop',
      mode: 'paired',
      forwarder_region: 'local',
      receiver_region: 'local',
      streams: ['btcusdt@trade'],
      status: 'succeeded',
      error: null,
      cause: null,
      comparison: 'paired',
      report: `${runId}/report.html`,
      baseline_samples: 396,
      baseline_lost: 3,
      backbone_samples: 400,
      backbone_lost: 0,
      matched_events: 396,
      paired_significant: true,
      loss_by_stream: [{ stream: 'btcusdt@trade', baseline_lost: 3, backbone_lost: 0 }],
    });
    expect(record.verdict).toBe(report.verdict);
    expect(record.paired_median_delta_ms).toBeCloseTo(-1, 0);
    expect(record.paired_delta_ci_low_ms as number).toBeLessThanOrEqual(
      record.paired_median_delta_ms as number,
    );
    expect(record.paired_delta_ci_high_ms as number).toBeGreaterThanOrEqual(
      record.paired_median_delta_ms as number,
    );
    expect(record.backbone_first_share).toBeGreaterThan(0.5);
    expect(record.baseline_median_ms).toBe(report.summaries.baseline?.median_latency_ms);
    expect(record.backbone_p99_ms).toBe(report.summaries.backbone?.p99_latency_ms);
    expect(record.baseline_jitter_ms).toBe(report.summaries.baseline?.jitter_stddev_ms);
  });

  it("lands a local run's record in <results>/history/ and its trend in <results>/history.html", async () => {
    // prepare: as `feedpath run` ends: the run analysed in <results>/<runId>/, then its run.json written
    const runId = '20260105-060000-cd34';
    const dir = await writeRunFolder(root, runId, { startedAt: '2026-01-05T06:00:00Z' });
    const runJson = await readFile(join(dir, 'run.json'), 'utf8');
    await rm(join(dir, 'run.json'));
    const { report } = await analyzeCommand(dir);
    await writeFile(join(dir, 'run.json'), runJson);

    // act
    const result = await recordRun(new LocalFolderStore(root), runId, report, { now: NOW });

    // assert
    expect(report.metadata.run).toBeNull();
    expect(result.key).toBe(`history/year=2026/month=01/day=05/${runId}.json`);
    expect(result.record).toMatchObject({
      run_id: runId,
      started_at: '2026-01-05T06:00:00.000Z',
      ended_at: '2026-01-05T06:00:30.000Z',
      forwarder_region: 'local',
      receiver_region: 'local',
    });
    const line = await readFile(
      join(root, 'history', 'year=2026', 'month=01', 'day=05', `${runId}.json`),
      'utf8',
    );
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.trimEnd().includes('\n')).toBe(false);
    expect(result.trend?.files).toEqual({
      html: join(root, 'history.html'),
      json: join(root, 'history.json'),
      jsonl: join(root, 'history.jsonl'),
    });
    const html = await readFile(join(root, 'history.html'), 'utf8');
    expect(html).toContain(`<a href="${runId}/report.html"`);
  });

  it("records a local run that failed from its folder's input.json and run.json", async () => {
    // prepare: the run's files as a failed `feedpath run` leaves them (no report)
    const runId = '20260105-060000-ef56';
    const dir = await writeRunFolder(root, runId, { startedAt: '2026-01-05T06:00:00Z', label: 'laptop' });
    await rm(join(dir, 'baseline-results.csv'));
    await rm(join(dir, 'backbone-results.csv'));

    // act
    const { record } = await recordFailedRun(
      new LocalFolderStore(root),
      {
        runId,
        prefix: runId,
        error: 'FP_AGENT_FAILED',
        cause: 'the run failed in RunPollAgents: receiver exited',
      },
      { now: NOW, trend: false },
    );

    // assert
    expect(record).toMatchObject({
      run_id: runId,
      status: 'failed',
      error: 'FP_AGENT_FAILED',
      cause: 'the run failed in RunPollAgents: receiver exited',
      started_at: '2026-01-05T06:00:00.000Z',
      label: 'laptop',
      mode: 'paired',
      streams: ['btcusdt@trade'],
      report: null,
    });
  });
});

describe('end of a workflow execution', () => {
  let root: string;
  let store: LocalFolderStore;

  beforeEach(async () => {
    root = await tempDir();
    store = new LocalFolderStore(root);
  });
  afterEach(async () => {
    await removeDir(root);
  });

  /** The event EventBridge delivers for the execution (its fields as Step Functions sends them). */
  function event(status: string, fields: Partial<ExecutionStatusEvent['detail']> = {}): ExecutionStatusEvent {
    return executionStatusEventSchema.parse({
      version: '0',
      id: '315c1398-40ff-a850-213b-158f73e60175',
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '123456789012',
      time: '2026-01-05T06:10:00Z',
      region: 'eu-central-1',
      resources: [EXECUTION_ARN],
      detail: {
        executionArn: EXECUTION_ARN,
        stateMachineArn: 'arn:aws:states:eu-central-1:123456789012:stateMachine:feedpath-dev',
        name: '0b1c2d3e-aaaa-bbbb-cccc-000000000001',
        status,
        startDate: START_MS,
        stopDate: START_MS + 600_000,
        input: '{"label":"nightly","streams":"ethusdt@aggTrade"}',
        inputDetails: { included: true },
        output: null,
        outputDetails: { included: true },
        error: null,
        cause: null,
        ...fields,
      },
    });
  }

  const plan = () =>
    planRun(
      experimentSchema.parse({ label: 'nightly' }),
      { stage: 'dev', bucket: 'b', bucketRegion: 'eu-central-1' },
      { id: EXECUTION_ARN, startTime: new Date(START_MS).toISOString() },
    );

  it('derives the run id and prefix PrepareRun gave the run', () => {
    const run = plan();

    // One function makes the prefix for both (lib/cloud/run.ts runPrefixFor): the UTC start day.
    expect(run.prefix).toBe(`runs/2026/01/05/${run.runId}/`);
  });

  it('records a failed execution as failed, with its error and cause', async () => {
    const result = await recordExecutionEnd(
      event('FAILED', { error: 'AgentFailed', cause: 'receiver command Failed on i-0abc: exit status 1' }),
      store,
      { now: NOW },
    );

    const { records } = await readHistory(store);
    expect(result).toEqual({
      runId: plan().runId,
      status: 'FAILED',
      action: 'recorded',
      key: `history/year=2026/month=01/day=05/${plan().runId}.json`,
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      run_id: plan().runId,
      status: 'failed',
      error: 'AgentFailed',
      cause: 'receiver command Failed on i-0abc: exit status 1',
      started_at: '2026-01-05T06:00:00.123Z',
      ended_at: '2026-01-05T06:10:00.123Z',
      label: 'nightly',
      streams: ['ethusdt@aggTrade'],
      report: null,
    });
  });

  it('names a timeout and keeps the measurements of a run that failed after its report', async () => {
    // prepare: the run's files as the workflow left them (report written, then the execution timed out)
    const run = plan();
    const dir = await writeRunFolder(join(root, run.prefix, '..'), run.runId, {
      startedAt: run.startedAt,
    });
    await analyzeCommand(dir);

    // act
    await recordExecutionEnd(event('TIMED_OUT'), store, { now: NOW });

    // assert
    const { records } = await readHistory(store);
    expect(records[0]).toMatchObject({
      status: 'failed',
      error: 'States.Timeout',
      cause: 'the execution timed out',
      comparison: 'paired',
      report: `${run.prefix}report.html`,
      matched_events: 400,
    });
  });

  it('keeps the record the analysis wrote for a succeeded execution', async () => {
    const run = plan();
    const dir = await writeRunFolder(join(root, run.prefix, '..'), run.runId, { startedAt: run.startedAt });
    const { report } = await analyzeCommand(dir);
    await recordRun(store, run.prefix, report, { now: NOW, trend: false });

    const result = await recordExecutionEnd(event('SUCCEEDED'), store, { now: NOW });

    expect(result.action).toBe('kept');
    expect((await readHistory(store)).records.map((r) => [r.run_id, r.status])).toEqual([
      [run.runId, 'succeeded'],
    ]);
  });

  it("records a succeeded execution from its report when the analysis' history write was lost", async () => {
    const run = plan();
    const dir = await writeRunFolder(join(root, run.prefix, '..'), run.runId, { startedAt: run.startedAt });
    await analyzeCommand(dir);

    const result = await recordExecutionEnd(event('SUCCEEDED'), store, { now: NOW });

    expect(result.action).toBe('recorded');
    expect((await readHistory(store)).records[0]).toMatchObject({
      run_id: run.runId,
      status: 'succeeded',
      report: `${run.prefix}report.html`,
    });
  });

  it('ignores an execution that has not ended', async () => {
    const result = await recordExecutionEnd(event('RUNNING'), store);

    expect(result.action).toBe('ignored');
    expect(await store.list('')).toEqual([]);
  });
});
