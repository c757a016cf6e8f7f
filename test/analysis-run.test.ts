import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCommand, formatAnalyzeOutput, formatSummaryTable } from '../cli/analyze';
import { SEED_SUMMARY_KEYS } from '../lib/analysis';
import { ErrorCode, FeedpathError } from '../lib/errors';
import { SEED_COLUMNS } from '../lib/samples';
import { agentMetricsJson, csv, E0_US, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

const SEED_HEADER = SEED_COLUMNS.join(',');
const spaced = (id: number): number => E0_US + id * 30_000;

async function rejection(promise: Promise<unknown>): Promise<FeedpathError> {
  try {
    await promise;
  } catch (error) {
    return error as FeedpathError;
  }
  throw new Error('expected a rejection');
}

describe('feedpath analyze', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('writes both summaries and report.json/md/html for a paired run, with metrics and metadata', async () => {
    // prepare: backbone 2 ms earlier on every event, trade 50 lost on the baseline
    const ids = Array.from({ length: 200 }, (_, i) => i + 1);
    await writeFiles(dir, {
      // One trade every 30 ms: 6 s of data, above the evidence minimum (lib/analysis/evidence.ts).
      'baseline-results.csv': csv(
        ids.filter((id) => id !== 50).map((id) => trade(id, 116_000 + (id % 7) * 500, { eUs: spaced(id) })),
      ),
      'backbone-results.csv': csv(
        ids.map((id) => trade(id, 114_000 + (id % 7) * 500, { legUs: 112_000, eUs: spaced(id) })),
      ),
      'input.json': JSON.stringify({ mode: 'paired', streams: ['btcusdt@trade'], durationSeconds: 30 }),
    });
    await mkdir(join(dir, 'metrics'));
    await writeFile(join(dir, 'metrics', 'receiver.json'), await agentMetricsJson('receiver', 0.05));

    // act
    let printed = '';
    const result = await analyzeCommand(dir, { print: (text) => (printed = text) });

    // assert
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.comparison).toBe('paired');
    expect(report.paired).toMatchObject({
      matched: 199,
      baseline_only: 0,
      backbone_only: 1,
      backbone_first_share: 1,
    });
    expect(report.paired.delta_ms.median).toBe(-2);
    expect(report.differences.avg_latency_ms).toBeCloseTo(-2, 1);
    expect(report.summaries.baseline.events_lost).toBe(1);
    expect(report.legs_ms.forwarder_to_receiver.median).toBe(112);
    expect(report.clock.receiver).toEqual({ error_bound_ms: 0.05, source: 'metrics/receiver.json' });
    expect(report.resources).toEqual([
      expect.objectContaining({ agent: 'receiver', avg_cpu_pct: expect.any(Number) }),
    ]);
    expect(report.metadata.input).toMatchObject({ mode: 'paired' });
    expect(result.verdict).toMatch(
      /^Backbone was faster: backbone delivered 100% of 199 matched events first; median delta \(backbone − baseline\) −2\.00 ms \(95% CI −2\.00 … −2\.00 ms\)/,
    );
    expect(result.verdict).toContain('clock error bound: receiver ±0.050 ms');
    for (const name of ['baseline-results.json', 'backbone-results.json', 'report.md', 'report.html']) {
      await expect(readFile(join(dir, name), 'utf8')).resolves.not.toHaveLength(0);
    }
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md.split('\n')[2]).toBe(`**${result.verdict}**`);
    expect(formatSummaryTable(result.report)).toMatch(/^metric\s+baseline\s+backbone/);
    expect(formatAnalyzeOutput(result)).toContain(join(dir, 'report.html'));
    expect(printed).toBe(formatAnalyzeOutput(result));
  });

  it("analyses a folder of seed-format CSVs from another tool, writing the seed's keys", async () => {
    const rows = (offsetMs: number) =>
      Array.from({ length: 50 }, (_, i) => {
        const id = 1000 + i;
        const latency = 110 + offsetMs + (i % 5);
        const binance = 1723100000000 + i;
        const frankfurtNs = BigInt(binance) * 1_000_000n + BigInt(latency * 1_000_000);
        return `${id},${binance},,${frankfurtNs},${latency.toFixed(3)},`;
      }).join('\n');
    await writeFiles(dir, {
      'baseline-results.csv': `${SEED_HEADER}\n${rows(5)}\n`,
      'backbone-results.csv': `${SEED_HEADER}\n${rows(0)}\n`,
    });

    const result = await analyzeCommand(dir);

    for (const path of ['baseline', 'backbone']) {
      const summary = JSON.parse(await readFile(join(dir, `${path}-results.json`), 'utf8'));
      expect(Object.keys(summary).slice(0, SEED_SUMMARY_KEYS.length)).toEqual([...SEED_SUMMARY_KEYS]);
      expect(summary).toMatchObject({ setup_type: path, sample_count: 50, events_lost: 0 });
    }
    expect(result.report.paired?.matched).toBe(50);
    expect(result.report.paired?.delta_ms?.median).toBe(-5);
    expect(result.report.data_quality.files.baseline.loss_assumption).toMatch(
      /no stream column: sequence_id gaps are read as trade-id gaps \(assumed/,
    );
  });

  it('reports one path when the other is missing or unreadable, and says why', async () => {
    await writeFiles(dir, {
      'baseline-results.csv': csv([trade(1, 100_000), trade(2, 101_000)]),
      'backbone-results.csv': 'not,a,results,file\n1,2,3,4\n',
    });

    const result = await analyzeCommand(dir);

    expect(result.report.comparison).toBe('baseline only');
    expect(result.report.data_quality.files.backbone).toMatchObject({ status: 'unreadable' });
    expect(result.report.data_quality.files.backbone.message).toMatch(
      /backbone-results\.csv:1: header is not the seed's/,
    );
    expect(result.verdict).toMatch(
      /^Only the baseline path was measured: median one-way latency 100\.5 ms, p99 101\.0 ms, jitter 0\.500 ms \(clock error bound: receiver unknown\)/,
    );
  });

  it('counts an unreadable cell as a data error in the report and still analyses the rest', async () => {
    await writeFiles(dir, {
      'baseline-results.csv': `${csv([trade(1, 100_000), trade(2, 101_000)])}3,1723100000000,,1723100000100000000,oops,,btcusdt@trade,btcusdt,,\n`,
    });

    const result = await analyzeCommand(dir);

    // The row's id was readable: the event was recorded (no loss, no skip), but it is in no statistic.
    expect(result.report.summaries.baseline).toMatchObject({
      skipped_rows: 0,
      data_errors: 1,
      sample_count: 2,
    });
    expect(result.report.data_quality.files.baseline.problems?.[0]?.message).toBe(
      `${join(dir, 'baseline-results.csv')}:4: end_to_end_latency_ms "oops" is not a number`,
    );
    expect(result.report.data_quality.warnings).toContainEqual(
      expect.stringMatching(/baseline-results\.csv: 1 unreadable row \(line 4\)/),
    );
  });

  it('fails with FP_NOTHING_TO_ANALYZE when no path has a readable row, naming each file', async () => {
    await writeFiles(dir, {
      'baseline-results.csv': '',
      'backbone-results.csv': `${SEED_HEADER}\n1,x,,,,\n`,
    });

    const error = await rejection(analyzeCommand(dir));

    expect(error).toBeInstanceOf(FeedpathError);
    expect(error.code).toBe(ErrorCode.nothingToAnalyze);
    expect(error.message).toContain(`${join(dir, 'baseline-results.csv')} is empty`);
    expect(error.message).toContain(`${join(dir, 'backbone-results.csv')} has no readable data row`);
  });

  it('fails with FP_BAD_INPUT for a missing folder and an unknown stream kind', async () => {
    expect((await rejection(analyzeCommand(join(dir, 'missing')))).code).toBe(ErrorCode.badInput);
    await writeFiles(dir, { 'baseline-results.csv': csv([trade(1, 100_000)]) });
    const error = await rejection(analyzeCommand(dir, { streamKind: 'ticker' }));
    expect(error.code).toBe(ErrorCode.badInput);
    expect(error.message).toMatch(/unknown stream kind "ticker"/);
  });
});
