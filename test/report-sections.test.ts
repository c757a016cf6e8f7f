/**
 * report.md and report.html render one list of sections (lib/report/sections.ts): the same
 * headings in the same order, the anchors others link to kept, a section without data left out.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCommand } from '../cli/analyze';
import { reportSections, type Report } from '../lib/report';
import { removeDir, tempDir } from './analysis-fixtures';
import { writeRunFolder } from './history-fixtures';

function decode(html: string): string {
  return html.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

describe('report sections', () => {
  let root: string;
  beforeEach(async () => {
    root = await tempDir();
  });
  afterEach(async () => {
    await removeDir(root);
  });

  it('are the same in report.md and report.html, in the order of the list', async () => {
    // prepare
    const dir = await writeRunFolder(root, '20260105-060000-ab12', {
      startedAt: '2026-01-05T06:00:00Z',
      deltaUs: -1000,
    });
    await analyzeCommand(dir);
    const [markdown, html, json] = await Promise.all(
      ['report.md', 'report.html', 'report.json'].map((name) => readFile(join(dir, name), 'utf8')),
    );
    const report = JSON.parse(json as string) as Report;

    // act
    const mdTitles = [...(markdown as string).matchAll(/^## (.*)$/gm)].map((m) => m[1]);
    const htmlHeadings = [...(html as string).matchAll(/<h2( id="([^"]*)")?>(.*?)<\/h2>/g)].map((m) => ({
      id: m[2],
      title: decode(m[3] as string),
    }));
    const listed = reportSections(report).map((s) => s.title);

    // assert: report.html has what report.md has, plus sections of charts only (report.md has none)
    expect(htmlHeadings.map((h) => h.title).filter((t) => t !== 'Latency')).toEqual(mdTitles);
    expect(htmlHeadings.map((h) => h.title)).toEqual(
      listed.filter((t) => htmlHeadings.some((h) => h.title === t)),
    );
    expect(htmlHeadings.filter((h) => h.id !== undefined)).toEqual([
      { id: 'market', title: 'Market context' },
      { id: 'market-state', title: 'Latency by market state' },
      { id: 'practical', title: 'Practical significance' },
    ]);
    // This run has no A/A control, cost, lab or connection log: those sections are left out.
    for (const absent of [
      'A/A control: the method’s own noise',
      'What the run cost (estimate)',
      'Lab check (ms)',
    ])
      expect({ absent, in: mdTitles.includes(absent) }).toEqual({ absent, in: false });
    expect(mdTitles[0]).toBe('Summary (the seed experiment’s keys)');
    expect(mdTitles.at(-1)).toBe('Definitions');
  });
});
