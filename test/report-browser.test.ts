/**
 * Opens report.html in a real headless Chromium (Debian's, no browser download) and fails on a
 * console error or on any expected chart without drawn marks.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCommand } from '../cli/analyze';
import { CHART_IDS } from '../lib/report';
import { SEED_COLUMNS } from '../lib/samples';
import {
  agentMetricsJson,
  csv,
  E0_US,
  mulberry32,
  removeDir,
  tempDir,
  trade,
  writeFiles,
} from './analysis-fixtures';
import { chromiumForSuite, drawnMarks, openFile } from './browser';

describe('report.html in headless Chromium', () => {
  let dir: string;
  const browser = chromiumForSuite();
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  /** Loads a report; collects console errors, the verdict and each chart's count of drawn marks. */
  async function open(file: string) {
    const { page, errors } = await openFile(browser(), file);
    const verdict = await page.textContent('#verdict');
    const marks = await drawnMarks(page);
    await page.close();
    return { errors, verdict, marks };
  }

  it('renders with no console error and every chart drawn', async () => {
    // prepare: a paired run with jitter, a loss, agents' metrics and the run's input
    const uniform = mulberry32(5);
    const ids = Array.from({ length: 3000 }, (_, i) => i + 1);
    const jitter = (meanUs: number) => Math.round(-Math.log(1 - uniform()) * meanUs);
    // One trade every 2 ms: 6 s of data, above the evidence minimum (lib/analysis/evidence.ts).
    const eUs = (id: number): number => E0_US + id * 2_000;
    await writeFiles(dir, {
      'baseline-results.csv': csv(
        ids.filter((id) => id % 1000 !== 0).map((id) => trade(id, 114_000 + jitter(4000), { eUs: eUs(id) })),
      ),
      'backbone-results.csv': csv(
        ids.map((id) => trade(id, 115_000 + jitter(500), { legUs: 113_000 + jitter(300), eUs: eUs(id) })),
      ),
      'input.json': JSON.stringify({
        mode: 'paired',
        streams: ['btcusdt@trade'],
        receiverRegion: 'eu-central-1',
      }),
    });
    await mkdir(join(dir, 'metrics'));
    for (const agent of ['receiver', 'forwarder']) {
      await writeFile(join(dir, 'metrics', `${agent}.json`), await agentMetricsJson(agent, 0.2));
    }
    await analyzeCommand(dir);

    // act
    const { errors, verdict, marks } = await open(join(dir, 'report.html'));

    // assert
    expect(errors).toEqual([]);
    expect(verdict).toMatch(/^Backbone was faster/);
    for (const id of CHART_IDS) expect({ id, drawn: (marks[id] ?? 0) > 0 }).toEqual({ id, drawn: true });
  });

  it('renders a one-path report of seed-format CSVs with its charts drawn', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => {
      const binance = 1723100000000 + i;
      const latency = 110 + (i % 9);
      return `${1000 + i},${binance},,${BigInt(binance) * 1_000_000n + BigInt(latency * 1_000_000)},${latency}.000,`;
    });
    await writeFiles(dir, { 'baseline-results.csv': `${SEED_COLUMNS.join(',')}\n${rows.join('\n')}\n` });
    await analyzeCommand(dir);

    const { errors, verdict, marks } = await open(join(dir, 'report.html'));

    expect(errors).toEqual([]);
    expect(verdict).toMatch(/^Only the baseline path was measured/);
    expect(Object.keys(marks)).toEqual(['latency-histogram', 'latency-cdf', 'latency-over-time', 'loss']);
    for (const [id, count] of Object.entries(marks))
      expect({ id, drawn: count > 0 }).toEqual({ id, drawn: true });
  });
});
