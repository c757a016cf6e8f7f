/**
 * `feedpath history` on a local results folder with several runs: history.html opens in a real
 * headless Chromium (Debian's, no browser download) with no console error, every chart drawn, a row
 * per run and links that reach each run's report.html.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyzeCommand } from '../cli/analyze';
import { historyCommand } from '../cli/history';
import { recordFailedRun, recordRun, TREND_CHART_IDS } from '../lib/history';
import { LocalFolderStore } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';
import { writeRunFolder } from './history-fixtures';
import { chromiumForSuite, drawnMarks, openFile } from './browser';

describe('history.html in headless Chromium', () => {
  let dir: string;
  const browser = chromiumForSuite();
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('renders the history of a results folder with every chart drawn and a link to each report', async () => {
    // prepare: three local runs recorded as `feedpath run` records them (deltas of 1.8–3 ms: above the
    // practical threshold, so each counts for the path that was faster), one analysed before the
    // history existed (no record yet), and one that failed
    const store = new LocalFolderStore(dir);
    const runs = [
      { id: '20260105-060000-aaaa', startedAt: '2026-01-05T06:00:00Z', deltaUs: -2400 },
      {
        id: '20260105-120000-bbbb',
        startedAt: '2026-01-05T12:00:00Z',
        deltaUs: -1800,
        baselineLossEvery: 50,
      },
      { id: '20260105-180000-cccc', startedAt: '2026-01-05T18:00:00Z', deltaUs: 2000 },
      { id: '20260106-000000-dddd', startedAt: '2026-01-06T00:00:00Z', deltaUs: -3000 },
    ];
    for (const [index, run] of runs.entries()) {
      const runDir = await writeRunFolder(dir, run.id, { ...run, seed: index + 1 });
      const { report } = await analyzeCommand(runDir);
      if (index < 3) await recordRun(store, run.id, report, { trend: false });
    }
    await recordFailedRun(
      store,
      {
        runId: '20260106-060000-eeee',
        startedAt: '2026-01-06T06:00:00Z',
        error: 'AgentFailed',
        cause: 'the receiver could not reach the exchange',
      },
      { trend: false },
    );
    const printed: string[] = [];

    // act
    const result = await historyCommand(dir, { print: (text) => printed.push(text) });
    const { page, errors } = await openFile(browser(), result.files.html);
    const headline = await page.textContent('#headline');
    const marks = await drawnMarks(page);
    const rows = await page.$$eval('#runs tbody tr', (trs) =>
      trs.map((tr) => ({ run: tr.getAttribute('data-run'), status: tr.className })),
    );
    const links = await page.$$eval('#runs a', (anchors) =>
      anchors.map((a) => (a as unknown as { href: string }).href),
    );
    await page.close();

    // assert
    expect(result.backfilled).toEqual(['20260106-000000-dddd']);
    expect(printed[0]).toMatch(/^5 runs from 2026-01-05 to 2026-01-06 \(4 succeeded, 1 failed\)/);
    expect(printed[0]).toContain(`history: ${join(dir, 'history.html')}`);
    expect(errors).toEqual([]);
    expect(headline).toMatch(/Backbone faster in 3 of 4 paired runs \(baseline faster in 1/);
    expect(headline).toMatch(
      /Latest run 20260106-060000-eeee failed: the receiver could not reach the exchange/,
    );
    for (const id of TREND_CHART_IDS)
      expect({ id, drawn: (marks[id] ?? 0) > 0 }).toEqual({ id, drawn: true });
    expect(rows).toEqual([
      { run: '20260106-060000-eeee', status: 'failed' },
      { run: '20260106-000000-dddd', status: 'succeeded' },
      { run: '20260105-180000-cccc', status: 'succeeded' },
      { run: '20260105-120000-bbbb', status: 'succeeded' },
      { run: '20260105-060000-aaaa', status: 'succeeded' },
    ]);
    expect(links).toEqual(runs.map((r) => pathToFileURL(join(dir, r.id, 'report.html')).href).reverse());
    for (const link of links) expect(existsSync(new URL(link))).toBe(true);
  });
});
