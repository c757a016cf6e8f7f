/**
 * The A/A control (a second direct connection paired with the baseline) and the verdict's rules for
 * practical significance: folders written with the receiver's own row formatter, analysed as
 * `feedpath analyze` does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCommand, formatSummaryTable } from '../cli/analyze';
import { executionInput } from '../cli/aws';
import { main } from '../cli/main';
import { parseExperimentInput } from '../lib/cloud/input';
import { parseLocalRunOptions } from '../lib/experiment';
import { EXIT_CODES } from '../lib/run-file';
import { resultsCsvName } from '../lib/samples';
import { csv, E0_US, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

/** 200 trades, one every 30 ms: 6 s of data, above the evidence minimum. */
const IDS = Array.from({ length: 200 }, (_, i) => i + 1);
const eUs = (id: number): number => E0_US + id * 30_000;
/** A baseline latency around 117 ms that varies by event (so the paths' medians are not one value). */
const baselineUs = (id: number): number => 117_000 + (id % 7) * 500;

/** Baseline and backbone CSVs, the backbone `deltaUs` later on every event (negative: earlier). */
function paths(deltaUs: number): Record<string, string> {
  return {
    'baseline-results.csv': csv(IDS.map((id) => trade(id, baselineUs(id), { eUs: eUs(id) }))),
    'backbone-results.csv': csv(
      IDS.map((id) => trade(id, baselineUs(id) + deltaUs, { legUs: 112_000, eUs: eUs(id) })),
    ),
  };
}

/** The control connection's CSV: each event `offsetUs(id)` after the baseline's arrival. */
function control(offsetUs: (id: number) => number): Record<string, string> {
  return {
    [resultsCsvName('control')]: csv(
      IDS.map((id) => trade(id, baselineUs(id) + offsetUs(id), { eUs: eUs(id) })),
    ),
  };
}

describe('the A/A control', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('pairs the control connection with the baseline and reports its delta, interval and noise', async () => {
    // prepare: the control 0.3 ms behind the baseline, ±0.1 ms by event; one event it never got
    const offset = (id: number): number => 300 + ((id % 3) - 1) * 100;
    await writeFiles(dir, {
      ...paths(-2_000),
      [resultsCsvName('control')]: csv(
        IDS.filter((id) => id !== 7).map((id) => trade(id, baselineUs(id) + offset(id), { eUs: eUs(id) })),
      ),
    });

    // act
    const result = await analyzeCommand(dir);

    // assert
    const c = result.report.control;
    expect(c).toMatchObject({ matched: 199, baseline_only: 1, control_only: 0, data_errors: 0 });
    expect(c?.delta_ms?.median).toBeCloseTo(0.3, 6);
    expect(c?.delta_p1_ms).toBeCloseTo(0.2, 6);
    expect(c?.delta_p99_ms).toBeCloseTo(0.4, 6);
    expect(c?.control_first_share).toBe(0);
    const ci = c?.median_delta_ci_ms;
    expect(ci?.method_id).toBe(result.report.paired?.median_delta_ci_ms?.method_id);
    expect(ci?.low).toBeLessThanOrEqual(0.3);
    expect(ci?.high).toBeGreaterThanOrEqual(0.3);
    expect(c?.noise_ms).toBe(Math.max(Math.abs(ci?.low ?? NaN), Math.abs(ci?.high ?? NaN)));
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(json.control.matched).toBe(199);
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('## A/A control: the method’s own noise');
    expect(md).toMatch(/\| median delta \(control − baseline\) \| \+0\.300 ms \|/);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2 id="control">A/A control: the method’s own noise</h2>');
    expect(formatSummaryTable(result.report)).toMatch(
      /^A\/A control: 199 events matched, median delta \(control − baseline\) \+0\.300 ms \(95% CI .* ms\), noise 0\.\d{3} ms$/m,
    );
  });

  it('is null without a control file, and the report says nothing of it', async () => {
    await writeFiles(dir, paths(-2_000));

    const result = await analyzeCommand(dir);

    expect(result.report.control).toBeNull();
    expect(result.report.practical.control_noise_ms).toBeNull();
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).not.toContain('## A/A control');
  });

  it('warns about an unreadable control file and analyses the paths without it', async () => {
    await writeFiles(dir, { ...paths(-2_000), [resultsCsvName('control')]: 'not,a,results,file\n1,2,3,4\n' });

    const result = await analyzeCommand(dir);

    expect(result.report.control).toBeNull();
    expect(result.report.data_quality.warnings.join('\n')).toMatch(/control-results\.csv could not be read/);
    expect(result.verdict).toMatch(/^Backbone was faster/);
  });
});

describe('the verdict and practical significance', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('says "no practical difference" for a real difference below the default threshold', async () => {
    // prepare: the backbone 0.26 ms earlier on every event of a ~118.5 ms path (the figure)
    await writeFiles(dir, paths(-260));

    // act
    const result = await analyzeCommand(dir);

    // assert: the interval excludes 0, and still no path is called faster
    expect(result.report.paired?.significant).toBe(true);
    expect(result.verdict).toMatch(
      /^No practical difference between the paths: median delta \(backbone − baseline\) −0\.260 ms \(95% CI −0\.260 … −0\.260 ms\) is below the practical threshold of 1\.19 ms \(1\.0% of the baseline’s 118\.5 ms median\); backbone delivered 100% of 200 matched events first/,
    );
    expect(result.report.practical).toMatchObject({
      min_difference_ms: 1,
      min_difference_share: 0.01,
      source: { min_difference_ms: 'default', min_difference_share: 'default' },
      basis: 'share of the median',
      reference_median_ms: 118.5,
      below_threshold: true,
      within_control_noise: null,
    });
    expect(result.report.practical.threshold_ms).toBeCloseTo(1.185, 9);
  });

  it('takes the threshold from input.json, and an option of the analysis over it', async () => {
    await writeFiles(dir, {
      ...paths(-260),
      'input.json': JSON.stringify({ mode: 'paired', minDifferenceMs: 0.1, minDifferenceShare: 0 }),
    });

    const fromInput = await analyzeCommand(dir);
    const fromOption = await analyzeCommand(dir, { minDifferenceMs: 0.5 });

    expect(fromInput.verdict).toMatch(
      /^Backbone was faster: backbone delivered 100% of 200 matched events first/,
    );
    expect(fromInput.report.practical).toMatchObject({
      threshold_ms: 0.1,
      basis: 'absolute',
      source: { min_difference_ms: 'input.json', min_difference_share: 'input.json' },
      below_threshold: false,
    });
    expect(fromOption.verdict).toMatch(/is below the practical threshold of 0\.500 ms;/);
    expect(fromOption.report.practical.source).toEqual({
      min_difference_ms: 'option',
      min_difference_share: 'input.json',
    });
  });

  it('keeps "faster" above the threshold and says it is beyond the A/A noise', async () => {
    await writeFiles(dir, { ...paths(-2_000), ...control((id) => ((id % 3) - 1) * 50) });

    const result = await analyzeCommand(dir);

    const noise = result.report.control?.noise_ms as number;
    expect(noise).toBeGreaterThanOrEqual(0);
    expect(noise).toBeLessThan(0.1);
    expect(result.report.practical).toMatchObject({ below_threshold: false, within_control_noise: false });
    expect(result.verdict).toMatch(
      /^Backbone was faster: backbone delivered 100% of 200 matched events first; median delta \(backbone − baseline\) −2\.00 ms \(95% CI −2\.00 … −2\.00 ms\), beyond the A\/A control’s noise of 0\.0\d\d ms;/,
    );
  });

  it('downgrades a difference within the A/A spread to "within the method’s own noise"', async () => {
    // prepare: the two direct connections differ by 2.5 ms (e.g. two gateways), more than A/B's 2 ms
    await writeFiles(dir, { ...paths(-2_000), ...control(() => 2_500) });

    const result = await analyzeCommand(dir);

    expect(result.report.paired?.significant).toBe(true);
    expect(result.report.practical).toMatchObject({
      below_threshold: false,
      control_noise_ms: 2.5,
      within_control_noise: true,
    });
    expect(result.verdict).toMatch(
      /^No practical difference between the paths: median delta \(backbone − baseline\) −2\.00 ms \(95% CI −2\.00 … −2\.00 ms\) is within the method’s own noise \(the A\/A control, two direct connections, differed by up to 2\.50 ms\); backbone delivered 100%/,
    );
  });

  it('gives both reasons when a difference is within the noise and below the threshold', async () => {
    await writeFiles(dir, { ...paths(-260), ...control(() => 400) });

    const result = await analyzeCommand(dir);

    expect(result.verdict).toMatch(
      /is within the method’s own noise \(.*up to 0\.400 ms\) and below the practical threshold of 1\.19 ms/,
    );
  });

  it('still says "no significant difference" when the interval spans 0', async () => {
    // prepare: the backbone ±3 ms around the baseline, event by event: a median of 0
    await writeFiles(dir, {
      'baseline-results.csv': csv(IDS.map((id) => trade(id, baselineUs(id), { eUs: eUs(id) }))),
      'backbone-results.csv': csv(
        IDS.map((id) => trade(id, baselineUs(id) + (id % 2 === 0 ? 3_000 : -3_000), { eUs: eUs(id) })),
      ),
    });

    const result = await analyzeCommand(dir);

    expect(result.verdict).toMatch(
      /^No significant difference between the paths: .*an interval that spans 0/,
    );
  });

  it('applies the threshold to one-way medians when no event was seen on both paths', async () => {
    // prepare: disjoint ids, so no pairing; backbone medians 0.5 ms lower
    await writeFiles(dir, {
      'baseline-results.csv': csv(IDS.map((id) => trade(id, baselineUs(id), { eUs: eUs(id) }))),
      'backbone-results.csv': csv(
        IDS.map((id) => trade(id + 1000, baselineUs(id) - 500, { eUs: eUs(id) + 15_000 })),
      ),
    });

    const result = await analyzeCommand(dir);

    expect(result.report.comparison).toBe('unpaired');
    expect(result.verdict).toMatch(
      /^No practical difference in median one-way latency: backbone 118\.0 ms vs baseline 118\.5 ms \(−0\.500 ms\), below the practical threshold of 1\.19 ms/,
    );
  });
});

describe('the threshold’s inputs', () => {
  it('flows from the workflow input, which names a bad field and keeps `{}` working', () => {
    const regions = ['eu-central-1', 'ap-northeast-1'];

    expect(parseExperimentInput({}, regions)).not.toHaveProperty('minDifferenceMs');
    expect(parseExperimentInput({ minDifferenceMs: 0.5, minDifferenceShare: 0 }, regions)).toMatchObject({
      minDifferenceMs: 0.5,
      minDifferenceShare: 0,
    });
    expect(() => parseExperimentInput({ minDifferenceShare: 2 }, regions)).toThrow(/minDifferenceShare/);
    expect(executionInput({ minDifferenceMs: 0.25 })).toEqual({ minDifferenceMs: 0.25 });
  });

  it('is an option of `feedpath run`, checked before anything runs', () => {
    expect(parseLocalRunOptions({ minDifferenceMs: 2 })).toMatchObject({ minDifferenceMs: 2 });
    expect(() => parseLocalRunOptions({ minDifferenceMs: -1 })).toThrow(/minDifferenceMs/);
  });

  it('rejects a share above 1 on the command line with one clear line', async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const code = await main(['analyze', '.', '--min-difference-share', '2']);
      expect(code).toBe(EXIT_CODES.usage);
    } finally {
      spy.mockRestore();
    }
    expect(writes.join('')).toMatch(/--min-difference-share must be a number from 0 to 1, not "2"/);
  });
});
