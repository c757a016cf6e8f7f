/**
 * Record the real feed, replay it anywhere: the receiver's capture of its direct exchange
 * connection (`--record`, lib/capture-writer.ts) read back by the replay's reader (lib/capture.ts),
 * a recorded run replayed by `feedpath run --replay` with every event, and a capture fetched from
 * its s3:// key (s3rver on loopback).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { analyzeCommand } from '../cli/analyze';
import { openReplaySource, replayCaptureOfRun } from '../cli/replay-source';
import { parseLocalRunOptions, type LocalRunOptions } from '../lib/experiment';
import { openCapture, type CaptureRecord } from '../lib/capture';
import { CAPTURE_FILE, CaptureWriter } from '../lib/capture-writer';
import { ErrorCode } from '../lib/errors';
import { runFileSchema } from '../lib/run-file';
import { csv, trade as sample } from './analysis-fixtures';
import { feedpath, onlyRun, readJson } from './feedpath-cli';
import { startLocalS3, type LocalS3 } from './s3rver';

const BUCKET = 'feedpath-capture-test';

function trade(id: number): string {
  const eUs = 1_723_161_255_343_000 + id * 1000;
  return JSON.stringify({
    stream: 'btcusdt@trade',
    data: {
      e: 'trade',
      E: eUs,
      s: 'BTCUSDT',
      t: id,
      p: '61837.63',
      q: '0.02',
      T: eUs - 500,
      m: true,
      M: true,
    },
  });
}

async function readAll(file: string): Promise<{ records: CaptureRecord[]; nonStream: number }> {
  const reader = await openCapture(file);
  const records: CaptureRecord[] = [];
  for await (const record of reader) records.push(record);
  return { records, nonStream: reader.skipped.nonStream };
}

/** Data rows of a results CSV (the header is not an event). */
function csvRowCount(file: string): number {
  return readFileSync(file, 'utf8').trim().split('\n').length - 1;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'feedpath-record-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the capture writer', () => {
  it('writes lines the replay reads back with their stamps, bytes and order', async () => {
    const file = join(dir, CAPTURE_FILE);
    const writer = await CaptureWriter.create(file, { flushIntervalMs: 10 });
    const n = 5000; // more than one flush batch
    for (let i = 0; i < n; i += 1)
      writer.append(Buffer.from(trade(1000 + i)), 1_723_161_255_000_000_000n + BigInt(i));
    // A control message the exchange sends is kept as it came (the reader skips it, and counts it).
    writer.append(Buffer.from('{"result":null,"id":1}'), 1_723_161_256_000_000_000n);

    await writer.close();
    writer.append(Buffer.from(trade(1)), 1n); // after close: ignored, no throw
    const { records, nonStream } = await readAll(file);

    expect(writer.messages).toBe(n + 1);
    expect(records).toHaveLength(n);
    expect(nonStream).toBe(1);
    expect(records[0]).toMatchObject({ stampNs: 1_723_161_255_000_000_000n, stream: 'btcusdt@trade' });
    expect(records.map((r) => r.data.t)).toEqual(Array.from({ length: n }, (_, i) => 1000 + i));
    expect(JSON.stringify({ stream: 'btcusdt@trade', data: records[n - 1]?.data })).toBe(trade(1000 + n - 1));
  });
});

describe('feedpath run --record, then --replay of its capture', () => {
  it('plays back every event the recorded run captured', async () => {
    const recorded = await feedpath(
      ['run', '--duration', '3', '--record', '--mode', 'baseline', '--no-control', '--out', join(dir, 'rec')],
      { timeoutMs: 90_000 },
    );
    expect(recorded.stderr).not.toMatch(/capture .* cannot be written/);
    expect(recorded.code).not.toBe(1);
    const recordedRun = onlyRun(join(dir, 'rec'));
    const capture = join(recordedRun, CAPTURE_FILE);
    const { records } = await readAll(capture);
    // The capture holds what the baseline recorded: the same events, none more.
    expect(records.length).toBeGreaterThan(10);
    expect(records.length).toBe(csvRowCount(join(recordedRun, 'baseline-results.csv')));

    const replayed = await feedpath(
      [
        'run',
        '--replay',
        capture,
        '--speed',
        '4',
        '--mode',
        'baseline',
        '--no-control',
        '--out',
        join(dir, 'rep'),
      ],
      { timeoutMs: 90_000 },
    );

    expect(replayed.code).not.toBe(1);
    const replayRun = onlyRun(join(dir, 'rep'));
    const run = runFileSchema.parse(readJson(join(replayRun, 'run.json')));
    expect(run.endedBy).toBe('replay-finished');
    expect(run.replay).toMatchObject({ file: capture, events: records.length });
    expect(csvRowCount(join(replayRun, 'baseline-results.csv'))).toBe(records.length);
    // A replay run records nothing unless asked.
    expect(existsSync(join(replayRun, CAPTURE_FILE))).toBe(false);
  }, 200_000);
});

describe('a capture in S3', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3(BUCKET);
  });
  afterAll(async () => {
    await s3?.close();
  });

  /** Writes a capture of `count` trades with the receiver's writer and puts it at `key`; returns its file. */
  async function putCapture(key: string, count: number): Promise<string> {
    const local = join(dir, CAPTURE_FILE);
    const writer = await CaptureWriter.create(local);
    for (let i = 0; i < count; i += 1)
      writer.append(Buffer.from(trade(i)), 1_700_000_000_000_000_000n + BigInt(i));
    await writer.close();
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(local) }));
    return local;
  }

  it('is downloaded from its s3:// key for the replay, and removed afterwards', async () => {
    const key = 'runs/2026/11/22/20261122-020231-k3f9/capture/baseline.jsonl.gz';
    await putCapture(key, 300);

    const source = await openReplaySource('--replay', `s3://${BUCKET}/${key}`, { s3: s3.client });
    const { records } = await readAll(source.file);
    await source.cleanup();

    expect(source.source).toBe(`s3://${BUCKET}/${key}`);
    expect(records.map((r) => r.data.t)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(existsSync(dirname(source.file))).toBe(false);
  });

  it('names a key that is not there', async () => {
    const missing = openReplaySource('--replay', `s3://${BUCKET}/runs/none/capture/baseline.jsonl.gz`, {
      s3: s3.client,
    });

    await expect(missing).rejects.toMatchObject({
      code: ErrorCode.badInput,
      message: expect.stringContaining('no such object') as unknown,
    });
  });

  it('is fetched again for a later analysis of a run that replayed it, once its copy is gone', async () => {
    // prepare: the capture in S3, and a run folder whose input.json says the run replayed it from
    // there through a temporary copy that no longer exists (what `feedpath run --replay s3://…` leaves)
    const key = 'runs/2026/11/23/20261123-101010-abcd/capture/baseline.jsonl.gz';
    const local = await putCapture(key, 50);
    const run = join(dir, 'run');
    mkdirSync(run);
    const input: Pick<LocalRunOptions, 'replay' | 'replaySource'> = {
      replay: join(dir, 'gone', 'baseline.jsonl.gz'),
      replaySource: `s3://${BUCKET}/${key}`,
    };
    writeFileSync(join(run, 'input.json'), JSON.stringify(input));
    const log: string[] = [];

    // act
    const fetched = await replayCaptureOfRun(run, { s3: s3.client, log: (line) => log.push(line) });
    const records = fetched === null ? [] : (await readAll(fetched.file)).records;
    await fetched?.cleanup();
    writeFileSync(join(run, 'input.json'), JSON.stringify({ ...input, replaySource: `s3://${BUCKET}/none` }));
    const missing = await replayCaptureOfRun(run, { s3: s3.client, log: (line) => log.push(line) });
    writeFileSync(join(run, 'input.json'), JSON.stringify({ ...input, replay: local }));
    const stillThere = await replayCaptureOfRun(run, { s3: s3.client });

    // assert: the capture's events; a download that fails is a log line, not a failure
    expect(records.map((r) => r.data.t)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(existsSync(dirname(fetched?.file ?? '/'))).toBe(false);
    expect(missing).toBeNull();
    expect(log.at(-1)).toContain('could not be fetched again');
    expect(stillThere).toBeNull();
  });

  it("gives a later `feedpath analyze` of the run the capture's market, named by its s3:// key", async () => {
    // prepare: the capture in S3; a run folder as `feedpath run --replay s3://… --speed 4` leaves it:
    // its input.json naming the temporary copy (gone) and the key, results of the capture's trades
    const key = 'runs/2026/11/24/20261124-111111-efgh/capture/baseline.jsonl.gz';
    await putCapture(key, 50);
    const run = join(dir, 'run');
    mkdirSync(run);
    const input = parseLocalRunOptions({
      mode: 'paired',
      replay: join(dir, 'gone', 'baseline.jsonl.gz'),
      replaySource: `s3://${BUCKET}/${key}`,
      speed: 4,
    });
    writeFileSync(join(run, 'input.json'), JSON.stringify(input));
    const ids = Array.from({ length: 50 }, (_, i) => i);
    writeFileSync(join(run, 'baseline-results.csv'), csv(ids.map((id) => sample(id, 150_000))));
    writeFileSync(
      join(run, 'backbone-results.csv'),
      csv(ids.map((id) => sample(id, 120_000, { legUs: 10_000 }))),
    );

    // act
    const { report } = await analyzeCommand(run, { s3: s3.client });

    // assert: the market is the capture's, named as the user gave it; no warning of a missing copy
    expect(report.market?.replay).toEqual({ file: `s3://${BUCKET}/${key}`, speed: 4 });
    expect(report.data_quality.warnings.filter((w) => w.includes('not readable here'))).toEqual([]);
  });

  it('refuses an s3 URI without a key', async () => {
    await expect(openReplaySource('--replay', `s3://${BUCKET}`, { s3: s3.client })).rejects.toMatchObject({
      code: ErrorCode.badInput,
    });
  });
});
