/**
 * The history in a bucket, against s3rver (real HTTP, no AWS): concurrent analyses each append their
 * record without losing another's, and `feedpath history s3://…` rebuilds the trend report.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { historyCommand } from '../cli/history';
import { analyzeRun } from '../lib/analysis';
import { parseExperimentInput } from '../lib/cloud/input';
import { listHistoryKeys, readHistory, recordRun, TREND_FILES, type Trend } from '../lib/history';
import { readText, S3Store } from '../lib/store';
import { csv, trade } from './analysis-fixtures';
import { runIdAt } from './history-fixtures';
import { startLocalS3, type LocalS3 } from './s3rver';

const BUCKET = 'feedpath-results';

describe('history in S3 (s3rver)', () => {
  let s3: LocalS3;
  let client: S3Client;
  let store: S3Store;

  beforeEach(async () => {
    s3 = await startLocalS3(BUCKET);
    client = s3.client;
    store = new S3Store({ client, bucket: BUCKET });
  });
  afterEach(async () => {
    await s3.close();
  });

  /** Stages a run as PrepareRun and the agents do: CSVs, input.json, run.json under its prefix. */
  async function stageRun(index: number, options: { keyPrefix?: string } = {}) {
    const started = new Date(Date.UTC(2026, 0, 1 + (index % 3), index, 0, 0));
    const runId = runIdAt(started, index);
    const prefix = `${options.keyPrefix ?? ''}runs/${started.toISOString().slice(0, 10).replaceAll('-', '/')}/${runId}/`;
    const ids = Array.from({ length: 300 }, (_, i) => i + 1);
    const input = parseExperimentInput({ label: `run ${index}` }, ['ap-northeast-1', 'eu-central-1']);
    const put = (key: string, body: string) =>
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${key}`, Body: body }));
    await put('baseline-results.csv', csv(ids.map((id) => trade(id, 116_000 + (id % 5) * 100))));
    await put(
      'backbone-results.csv',
      csv(ids.map((id) => trade(id, 115_000 - index * 10 + (id % 5) * 100, { legUs: 113_000 }))),
    );
    await put('input.json', JSON.stringify(input));
    await put('run.json', JSON.stringify({ runId, startedAt: started.toISOString(), prefix, input }));
    return { runId, prefix, started };
  }

  it('keeps every record when eight analyses finish at the same time', async () => {
    // prepare
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => stageRun(i)));

    // act: analyse and record all eight at once, as eight concurrent Lambdas would
    const results = await Promise.all(
      runs.map(async (run) => {
        const { report } = await analyzeRun(store, run.prefix);
        return recordRun(store, run.prefix, report);
      }),
    );

    // assert: one object per run, each readable, and the last trend report holds them all
    expect(results.map((r) => r.key).sort()).toEqual(
      runs
        .map((r) => `history/year=2026/month=01/day=${r.started.toISOString().slice(8, 10)}/${r.runId}.json`)
        .sort(),
    );
    expect(await listHistoryKeys(store)).toHaveLength(8);
    const read = await readHistory(store);
    expect(read.skipped).toEqual([]);
    expect(read.records.map((r) => r.run_id).sort()).toEqual(runs.map((r) => r.runId).sort());
    for (const record of read.records) {
      const run = runs.find((r) => r.runId === record.run_id);
      expect(record).toMatchObject({
        status: 'succeeded',
        started_at: run?.started.toISOString(),
        forwarder_region: 'ap-northeast-1',
        receiver_region: 'eu-central-1',
        streams: ['btcusdt@trade'],
        report: `${run?.prefix}report.html`,
        matched_events: 300,
      });
    }
    const trend = JSON.parse((await readText(store, TREND_FILES.json)) ?? '{}') as Trend;
    expect(trend.runs.map((r) => r.run_id).sort()).toEqual(runs.map((r) => r.runId).sort());
    expect(trend.location).toBe(`s3://${BUCKET}/`);
    const html = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: TREND_FILES.html }));
    expect(html.ContentType).toBe('text/html; charset=utf-8');
    // Links in the bucket are the reports' keys, relative to history.html at the bucket's root.
    const page = (await html.Body?.transformToString()) ?? '';
    expect(page).toContain(`href="${runs[0]?.prefix}report.html"`);
  });

  it('rebuilds the trend of s3://bucket/prefix, adding runs analysed before the history existed', async () => {
    // prepare: two runs under a prefix, analysed with no history record
    const runs = [await stageRun(0, { keyPrefix: 'team-a/' }), await stageRun(1, { keyPrefix: 'team-a/' })];
    for (const run of runs) await analyzeRun(store, run.prefix);

    // act
    const result = await historyCommand(`s3://${BUCKET}/team-a/`, { s3: client });

    // assert
    expect(result.backfilled.sort()).toEqual(runs.map((r) => r.runId).sort());
    expect(result.runs).toBe(2);
    expect(result.files.html).toBe(`s3://${BUCKET}/team-a/history.html`);
    expect((await store.list('team-a/history/')).length).toBe(2);
    const jsonl = (await readText(store, 'team-a/history.jsonl')) ?? '';
    expect(jsonl.trimEnd().split('\n')).toHaveLength(2);
    const again = await historyCommand(`s3://${BUCKET}/team-a`, { s3: client });
    expect(again.backfilled).toEqual([]);
    expect(again.runs).toBe(2);
  });
});
