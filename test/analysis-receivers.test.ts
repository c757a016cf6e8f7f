import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeReceivers } from '../lib/analysis/receivers';
import { ErrorCode, FeedpathError } from '../lib/errors';
import type { Report } from '../lib/report';
import type { MatrixReport } from '../lib/report/matrix';
import { LocalFolderStore } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';
import { receiverFiles, writeFiles, writeReceiversRun } from './receivers-fixtures';

function prefixed(prefix: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([name, text]) => [`${prefix}${name}`, text]));
}

async function readJson<T>(dir: string, name: string): Promise<T> {
  return JSON.parse(await readFile(join(dir, name), 'utf8')) as T;
}

describe('analyzeReceivers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  /** Three receivers: backbone 2 ms and 1.5 ms ahead, and 0.4 ms ahead (real, but below 1 ms). */
  async function threeReceivers(): Promise<void> {
    await writeReceiversRun(dir, [
      { name: 'frankfurt', baselineUs: 116_000, deltaUs: -2_000, clockBoundMs: 0.05 },
      { name: 'london', baselineUs: 110_000, deltaUs: -1_500, clockBoundMs: 0.07 },
      { name: 'virginia', baselineUs: 80_000, deltaUs: -400 },
    ]);
  }

  it("writes each receiver's report and a matrix whose rows are those reports' figures", async () => {
    // prepare
    await threeReceivers();

    // act
    const result = await analyzeReceivers(new LocalFolderStore(dir), '', ['frankfurt', 'london', 'virginia']);

    // assert: each receiver's own report, with the run's files found at the run prefix
    const matrix = await readJson<MatrixReport>(dir, 'report.json');
    for (const name of ['frankfurt', 'london', 'virginia']) {
      const report = await readJson<Report>(dir, `receivers/${name}/report.json`);
      expect(report.comparison).toBe('paired');
      expect(report.metadata.input).toMatchObject({ mode: 'paired' });
      expect(report.clock.forwarder).toEqual({ error_bound_ms: 0.2, source: 'metrics/forwarder.json' });
      for (const file of ['baseline-results.json', 'backbone-results.json', 'report.md', 'report.html'])
        await expect(readFile(join(dir, 'receivers', name, file), 'utf8')).resolves.not.toHaveLength(0);
      const row = matrix.matrix.find((r) => r.receiver === name);
      expect(row).toMatchObject({
        baseline_median_ms: report.summaries.baseline?.median_latency_ms,
        baseline_p99_ms: report.summaries.baseline?.p99_latency_ms,
        backbone_median_ms: report.summaries.backbone?.median_latency_ms,
        backbone_p99_ms: report.summaries.backbone?.p99_latency_ms,
        median_delta_ms: report.paired?.delta_ms?.median,
        median_delta_ci_ms: {
          low: report.paired?.median_delta_ci_ms?.low,
          high: report.paired?.median_delta_ci_ms?.high,
        },
        events_lost: { baseline: 0, backbone: 0 },
        clock_error_bound_ms: { receiver: report.clock.receiver.error_bound_ms, forwarder: 0.2 },
      });
      expect(matrix.receivers[name]).toMatchObject({
        verdict: report.verdict,
        report: { html: `receivers/${name}/report.html` },
        error: null,
      });
    }
    expect(matrix.matrix.map((r) => [r.receiver, r.median_delta_ms, r.judgement])).toEqual([
      ['frankfurt', -2, 'backbone faster'],
      ['london', -1.5, 'backbone faster'],
      ['virginia', -0.4, 'no practical difference'],
    ]);
    expect(matrix.matrix.map((r) => r.clock_error_bound_ms.receiver)).toEqual([0.05, 0.07, null]);
    expect(matrix.overall).toBe(
      'Backbone faster in 2 of 3 receivers (frankfurt −2.00 ms, london −1.50 ms); no practical difference in virginia.',
    );
    expect(result.matrix.overall).toBe(matrix.overall);
    expect(Object.keys(result.receivers)).toEqual(['frankfurt', 'london', 'virginia']);

    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain(`**${matrix.overall}**`);
    expect(md).toContain('| [virginia](receivers/virginia/report.md) |');
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<a href="receivers/london/report.html">london</a>');
    expect(html).toMatch(/<figure class="chart" data-chart="receivers-delta"><svg/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('reports a receiver with nothing to analyse as a row, and names it in the answer', async () => {
    // prepare: virginia's folder never got its files; london's backbone is 1.5 ms behind
    await writeFiles(dir, {
      ...prefixed('receivers/frankfurt/', receiverFiles(116_000, -2_000)),
      ...prefixed('receivers/london/', receiverFiles(110_000, 1_500)),
    });

    // act
    const result = await analyzeReceivers(new LocalFolderStore(dir), '', [
      { name: 'frankfurt', region: 'eu-central-1' },
      'london',
      'virginia',
    ]);

    // assert
    expect(result.receivers.virginia).toBeNull();
    expect(result.matrix.receivers.virginia?.error).toMatch(/^nothing to analyse in /);
    expect(result.matrix.matrix.map((r) => r.judgement)).toEqual([
      'backbone faster',
      'baseline faster',
      'not analysed',
    ]);
    expect(result.matrix.matrix[0]?.region).toBe('eu-central-1');
    expect(result.matrix.overall).toBe(
      'Backbone faster in 1 of 3 receivers (frankfurt −2.00 ms); baseline faster in london (+1.50 ms); no analysis for virginia.',
    );
  });

  it('fails when no receiver has anything to analyse, and refuses a name that is not a folder', async () => {
    const store = new LocalFolderStore(dir);
    await expect(analyzeReceivers(store, '', ['frankfurt', 'london'])).rejects.toMatchObject({
      code: ErrorCode.nothingToAnalyze,
    });
    await expect(analyzeReceivers(store, '', ['../up'])).rejects.toBeInstanceOf(FeedpathError);
  });
});
