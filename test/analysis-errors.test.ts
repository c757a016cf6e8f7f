import { join } from 'node:path';
import { analyzeCommand, formatAnalyzeOutput, type AnalyzeResult } from '../cli/analyze';
import { SEED_SUMMARY_KEYS } from '../lib/analysis';
import { ErrorCode, FeedpathError } from '../lib/errors';
import type { Sample } from '../lib/samples';
import { csv, E0_US, mulberry32, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

const N = 1200;

/** 30 s of trades on both paths, written by the receiver's own row formatter, with jittered latencies. */
function samples(): { baseline: Sample[]; backbone: Sample[] } {
  const random = mulberry32(7);
  const baseline: Sample[] = [];
  const backbone: Sample[] = [];
  for (let id = 1; id <= N; id++) {
    const eUs = E0_US + id * 25_000;
    baseline.push(trade(id, 110_000 + Math.round(random() * 20_000), { eUs }));
    backbone.push(trade(id, 108_000 + Math.round(random() * 20_000), { eUs, legUs: 106_000 }));
  }
  return { baseline, backbone };
}

/** The CSV's lines (header first, no trailing empty line) and back. */
const lines = (text: string): string[] => text.trimEnd().split('\n');
const join_ = (rows: string[]): string => `${rows.join('\n')}\n`;

/** Replaces cell `column` of data row `row` (0-based, after the header). */
function setCell(rows: string[], row: number, column: number, value: string): void {
  const cells = (rows[row + 1] as string).split(',');
  cells[column] = value;
  rows[row + 1] = cells.join(',');
}

/** The seed's statistics (its keys but the path's name and the loss), and the count of latencies. */
const STATS = [
  ...SEED_SUMMARY_KEYS.filter((key) => key !== 'setup_type' && key !== 'events_lost'),
  'latency_sample_count',
] as const;

function stats(result: AnalyzeResult) {
  const s = result.report.summaries.baseline;
  const d = result.report.paired?.delta_ms;
  return {
    ...Object.fromEntries(STATS.map((k) => [k, s?.[k]])),
    delta: d && { count: d.count, median: d.median, p99: d.p99, mean: d.mean },
  };
}

describe('data errors are not loss', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  async function analyze(baseline: string, backbone: string): Promise<AnalyzeResult> {
    await writeFiles(dir, { 'baseline-results.csv': baseline, 'backbone-results.csv': backbone });
    return analyzeCommand(dir);
  }

  /**
   * Analyses the clean run, the run with `corrupt` applied to the baseline's lines, and the clean
   * run without the baseline rows the corruption touched (what the statistics should equal).
   */
  async function compare(corrupt: (rows: string[]) => void, touched: number[]) {
    const { baseline, backbone } = samples();
    const backboneCsv = csv(backbone);
    const clean = await analyze(csv(baseline), backboneCsv);
    const without = await analyze(csv(baseline.filter((_, i) => !touched.includes(i))), backboneCsv);
    const rows = lines(csv(baseline));
    corrupt(rows);
    const corrupted = await analyze(join_(rows), backboneCsv);
    return { clean, without, corrupted };
  }

  it('keeps unreadable cells out of every statistic and out of the loss, keeping their ids', async () => {
    const touched = [10, 40, 41, 300, 700];
    const { clean, without, corrupted } = await compare((rows) => {
      setCell(rows, 10, 4, 'abc'); // latency
      setCell(rows, 40, 1, 'x'); // binance_time
      setCell(rows, 41, 3, '17231000001234x'); // frankfurt_time
      setCell(rows, 300, 5, '--'); // backbone_latency_ms
      setCell(rows, 700, 8, 'µs'); // exchange_time_us
    }, touched);

    expect(stats(corrupted)).toEqual(stats(without));
    expect(corrupted.report.summaries.baseline).toMatchObject({
      events_lost: 0,
      data_errors: 5,
      skipped_rows: 0,
    });
    expect(corrupted.report.paired?.matched).toBe(clean.report.paired?.matched);
    expect(corrupted.report.data_quality.files.baseline.data_errors).toEqual({
      unreadable: { count: 5, lines: touched.map((i) => i + 2) },
    });
    expect(corrupted.report.data_quality.warnings).toContainEqual(
      expect.stringMatching(/baseline-results\.csv: 5 unreadable rows \(lines 12, 42, 43, 302, 702\)/),
    );
  });

  it('counts a gap made of unreadable rows (ids that cannot be read) as data errors, not loss', async () => {
    const touched = [100, 101, 102, 500];
    const { without, corrupted } = await compare((rows) => {
      for (const i of touched) setCell(rows, i, 0, `#${i}`);
    }, touched);

    expect(without.report.summaries.baseline?.events_lost).toBe(4); // the same ids, really missing
    expect(corrupted.report.summaries.baseline).toMatchObject({
      events_lost: 0,
      data_errors: 4,
      skipped_rows: 4,
    });
    expect(stats(corrupted)).toEqual(stats(without));
    expect(corrupted.report.loss.baseline?.per_stream[0]?.unreadable_in_gaps).toBe(4);
  });

  it('keeps 10,000 duplicates of one row out of the percentiles (the first arrival counts)', async () => {
    const { clean, corrupted } = await compare((rows) => {
      const copy = rows[51] as string;
      rows.splice(52, 0, ...Array.from({ length: 10_000 }, () => copy));
    }, []);

    expect(stats(corrupted)).toEqual(stats(clean));
    expect(corrupted.report.summaries.baseline).toMatchObject({
      events_lost: 0,
      duplicate_events: 10_000,
      data_errors: 10_000,
    });
    expect(corrupted.report.data_quality.files.baseline.data_errors?.duplicate?.lines.slice(0, 2)).toEqual([
      53, 54,
    ]);
  });

  it('keeps a row whose receiver time steps back out of the statistics', async () => {
    const { without, corrupted } = await compare(
      (rows) => {
        const cells = (rows[601] as string).split(',');
        cells[3] = String(BigInt(cells[3] as string) - 5_000_000_000n); // 5 s back
        rows[601] = cells.join(',');
      },
      [600],
    );

    expect(stats(corrupted)).toEqual(stats(without));
    expect(corrupted.report.summaries.baseline?.events_lost).toBe(0);
    expect(corrupted.report.data_quality.files.baseline.data_errors).toEqual({
      'clock step back': { count: 1, lines: [602] },
    });
  });

  it('keeps a lone jump forward of the receiver time out too, not the rows after it', async () => {
    const { without, corrupted } = await compare(
      (rows) => {
        const cells = (rows[601] as string).split(',');
        cells[3] = String(BigInt(cells[3] as string) + 3_600_000_000_000n); // 1 h ahead
        rows[601] = cells.join(',');
      },
      [600],
    );

    expect(stats(corrupted)).toEqual(stats(without));
    expect(corrupted.report.summaries.baseline?.data_errors).toBe(1);
  });

  it("counts 1e3 ms (not what the row's times say), negative and absurd latencies as non-physical", async () => {
    const { without, corrupted } = await compare(
      (rows) => {
        setCell(rows, 20, 4, '1e3');
        setCell(rows, 21, 4, '-0.5');
        setCell(rows, 22, 4, '99999999'); // beyond the absolute bound (1 h)
      },
      [20, 21, 22],
    );

    expect(stats(corrupted)).toEqual(stats(without));
    expect(corrupted.report.summaries.baseline?.events_lost).toBe(0);
    const found = corrupted.report.data_quality.files.baseline.data_errors;
    expect(Object.keys(found ?? {})).toEqual(['non-physical']);
    expect(found?.['non-physical']?.count).toBe(3);
    expect([...(found?.['non-physical']?.lines ?? [])].sort((a, b) => a - b)).toEqual([22, 23, 24]);
  });

  it('names a file with the wrong header as unreadable, on the terminal too', async () => {
    const { backbone } = samples();
    const result = await analyze('id,time,latency\n1,2,3\n', csv(backbone));

    const file = join(dir, 'baseline-results.csv');
    expect(result.report.data_quality.files.baseline).toMatchObject({ status: 'unreadable' });
    expect(result.report.data_quality.files.baseline.message).toContain(
      `${file}:1: header is not the seed's (missing columns sequence_id, binance_time, tokyo_time, frankfurt_time, end_to_end_latency_ms, backbone_latency_ms)`,
    );
    const output = formatAnalyzeOutput(result);
    expect(output.split(`unreadable: ${file}:1: header is not the seed's`)).toHaveLength(2); // once
  });

  it('fails naming the unreadable file when no other path can be read', async () => {
    await writeFiles(dir, { 'baseline-results.csv': 'id,time,latency\n1,2,3\n' });

    const error = await analyzeCommand(dir).catch((e: unknown) => e as FeedpathError);

    expect(error).toBeInstanceOf(FeedpathError);
    expect((error as FeedpathError).code).toBe(ErrorCode.nothingToAnalyze);
    expect((error as FeedpathError).message).toMatch(
      /baseline-results\.csv:1: header is not the seed's \(missing columns/,
    );
  });
});
