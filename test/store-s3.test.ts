/**
 * The results store over S3: the analysis end to end against s3rver (real HTTP, no AWS), and the
 * request shapes (pagination, missing keys) against aws-sdk-client-mock.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { analyzeRun } from '../lib/analysis';
import { ErrorCode, FeedpathError } from '../lib/errors';
import { readText, S3Store } from '../lib/store';
import { agentMetricsJson, csv, trade } from './analysis-fixtures';
import { startLocalS3, type LocalS3 } from './s3rver';

const BUCKET = 'feedpath-results';
const PREFIX = 'runs/2024/08/08/run-1/';

describe('S3Store against s3rver', () => {
  let s3: LocalS3;
  let client: S3Client;

  beforeEach(async () => {
    s3 = await startLocalS3(BUCKET);
    client = s3.client;
  });
  afterEach(async () => {
    await s3.close();
  });

  it('analyses a run under an S3 prefix and writes summaries and report back beside the CSVs', async () => {
    // prepare
    const ids = Array.from({ length: 500 }, (_, i) => i + 1);
    const put = (key: string, body: string) =>
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${key}`, Body: body }));
    await put('baseline-results.csv', csv(ids.map((id) => trade(id, 116_000 + (id % 3) * 100))));
    await put(
      'backbone-results.csv',
      csv(ids.map((id) => trade(id, 115_000 + (id % 3) * 100, { legUs: 113_000 }))),
    );
    await put('input.json', JSON.stringify({ mode: 'paired', label: 'nightly' }));
    await put('metrics/forwarder.json', await agentMetricsJson('forwarder', 0.2));
    const store = new S3Store({ client, bucket: BUCKET });

    // act
    const result = await analyzeRun(store, PREFIX);

    // assert
    expect(result.files.reportHtml).toBe(`s3://${BUCKET}/${PREFIX}report.html`);
    expect(await store.list(PREFIX)).toEqual(
      [
        'backbone-results.csv',
        'backbone-results.json',
        'baseline-results.csv',
        'baseline-results.json',
        'input.json',
        'metrics/forwarder.json',
        'report.html',
        'report.json',
        'report.md',
      ].map((key) => `${PREFIX}${key}`),
    );
    const report = JSON.parse((await readText(store, `${PREFIX}report.json`)) ?? '{}');
    expect(report.paired.matched).toBe(500);
    expect(report.paired.delta_ms.median).toBe(-1);
    expect(report.metadata.input.label).toBe('nightly');
    expect(report.clock.forwarder.error_bound_ms).toBe(0.2);
    const summary = JSON.parse((await readText(store, `${PREFIX}baseline-results.json`)) ?? '{}');
    expect(summary.sample_count).toBe(500);
  });

  it('reads a missing key as null and streams what was written', async () => {
    const store = new S3Store({ client, bucket: BUCKET });

    await store.write('a/b.txt', 'hello');

    expect(await store.readStream('a/missing.txt')).toBeNull();
    expect(await readText(store, 'a/b.txt')).toBe('hello');
  });
});

describe('S3Store requests', () => {
  // Mocks every S3Client's send: created here, restored after, so the s3rver tests use real HTTP.
  let s3: ReturnType<typeof mockClient>;
  beforeAll(() => {
    s3 = mockClient(S3Client);
  });
  afterAll(() => s3.restore());
  beforeEach(() => s3.reset());

  it('follows ListObjectsV2 continuation tokens', async () => {
    s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: 'p/', ContinuationToken: undefined }).resolves({
      Contents: [{ Key: 'p/b' }],
      IsTruncated: true,
      NextContinuationToken: 't1',
    });
    s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: 'p/', ContinuationToken: 't1' }).resolves({
      Contents: [{ Key: 'p/a' }],
      IsTruncated: false,
    });
    const store = new S3Store({ client: new S3Client({ region: 'eu-central-1' }), bucket: BUCKET });

    expect(await store.list('p/')).toEqual(['p/a', 'p/b']);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(2);
  });

  it('writes report files with their content type', async () => {
    s3.on(PutObjectCommand).resolves({});
    const store = new S3Store({ client: new S3Client({ region: 'eu-central-1' }), bucket: BUCKET });

    await store.write('r/report.html', '<html></html>');

    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: 'r/report.html',
      Body: '<html></html>',
      ContentType: 'text/html; charset=utf-8',
    });
  });

  it('turns an access error into FP_STORE_FAILED naming the object', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const store = new S3Store({ client: new S3Client({ region: 'eu-central-1' }), bucket: BUCKET });

    const error = await store.readStream('r/x.csv').catch((e: unknown) => e as FeedpathError);

    expect(error).toBeInstanceOf(FeedpathError);
    expect((error as FeedpathError).code).toBe(ErrorCode.storeFailed);
    expect((error as FeedpathError).message).toBe(`cannot read s3://${BUCKET}/r/x.csv: Access Denied`);
  });
});
