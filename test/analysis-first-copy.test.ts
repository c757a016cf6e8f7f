import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeRun } from '../lib/analysis';
import type { Sample } from '../lib/samples';
import { LocalFolderStore } from '../lib/store';
import { csv, E0_US, mulberry32, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

const EVENTS = 2000;

/** numpy's default percentile (linear between the closest ranks), written here for the check. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

describe('the earlier copy', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('reports the earlier of the two copies, the gain over each path, who came first and one-path events', async () => {
    // prepare: latencies in whole µs; the baseline jitters widely and spikes, the backbone is steady
    // and 1 ms faster at the median; each path misses some events the other delivers.
    const random = mulberry32(11);
    const latency: Record<'baseline' | 'backbone', Map<number, number>> = {
      baseline: new Map(),
      backbone: new Map(),
    };
    const baseline: Sample[] = [];
    const backbone: Sample[] = [];
    for (let id = 1; id <= EVENTS; id++) {
      const eUs = E0_US + id * 20_000;
      const spike = random() < 0.02 ? 20_000 : 0;
      const a = 116_000 + Math.floor(random() * 4000) + spike;
      const b = 115_000 + Math.floor(random() * 1500);
      if (id % 97 !== 0) {
        latency.baseline.set(id, a);
        baseline.push(trade(id, a, { eUs }));
      }
      if (id % 89 !== 0) {
        latency.backbone.set(id, b);
        backbone.push(trade(id, b, { eUs, legUs: 113_000 }));
      }
    }
    await writeFiles(dir, { 'baseline-results.csv': csv(baseline), 'backbone-results.csv': csv(backbone) });

    // the expected figures, in ms, from the generated latencies
    const both = [...latency.baseline.keys()].filter((id) => latency.backbone.has(id));
    const a = both.map((id) => (latency.baseline.get(id) as number) / 1000);
    const b = both.map((id) => (latency.backbone.get(id) as number) / 1000);
    const earlier = a.map((x, i) => Math.min(x, b[i] as number));
    const gainOverBaseline = a.map((x, i) => x - (earlier[i] as number));
    const gainOverBackbone = b.map((x, i) => x - (earlier[i] as number));

    // act
    const { report } = await analyzeRun(new LocalFolderStore(dir), '');

    // assert
    const f = report.first_copy;
    expect(f?.events).toBe(both.length);
    expect(f?.without_latency).toBe(0);
    for (const [p, key] of [
      [50, 'median'],
      [99, 'p99'],
      [99.9, 'p999'],
    ] as const) {
      expect(f?.latency_ms[key]).toBeCloseTo(percentile(earlier, p), 9);
    }
    expect(f?.gain_ms.baseline.median).toBeCloseTo(percentile(gainOverBaseline, 50), 9);
    expect(f?.gain_ms.baseline.p99).toBeCloseTo(percentile(gainOverBaseline, 99), 9);
    expect(f?.gain_ms.backbone.median).toBeCloseTo(percentile(gainOverBackbone, 50), 9);
    expect(f?.gain_ms.backbone.p99).toBeCloseTo(percentile(gainOverBackbone, 99), 9);
    const share = (test: (x: number, y: number) => boolean): number =>
      a.filter((x, i) => test(x, b[i] as number)).length / both.length;
    expect(f?.first_share.baseline).toBeCloseTo(
      share((x, y) => x < y),
      12,
    );
    expect(f?.first_share.backbone).toBeCloseTo(
      share((x, y) => y < x),
      12,
    );
    expect(f?.first_share.tie).toBeCloseTo(
      share((x, y) => x === y),
      12,
    );
    // ids that are multiples of 89 only on the baseline, of 97 only on the backbone (none of both)
    expect(f?.only_one_path).toEqual({
      baseline: Math.floor(EVENTS / 89),
      backbone: Math.floor(EVENTS / 97),
    });
    const markdown = await readFile(join(dir, 'report.md'), 'utf8');
    expect(markdown).toContain('## The earlier copy (both paths)');
    expect(markdown).toContain('act on whichever copy of an event arrives first');
    expect(markdown).toMatch(/\| earlier copy \(both paths\) \| 11\d\.\d+ \|/);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2>The earlier copy (both paths)</h2>');
  });

  it('has no earlier copy without event times (bookTicker), and the report still renders', async () => {
    const ticker = (id: number, latencyUs: number, legUs?: number): Sample => ({
      ...trade(id, latencyUs, { legUs }),
      stream: 'btcusdt@bookTicker',
      exchangeTimeUs: undefined,
    });
    const ids = Array.from({ length: 50 }, (_, i) => i + 1);
    await writeFiles(dir, {
      'baseline-results.csv': csv(ids.map((id) => ticker(id, 116_000))),
      'backbone-results.csv': csv(ids.map((id) => ticker(id, 115_000, 113_000))),
    });

    const { report } = await analyzeRun(new LocalFolderStore(dir), '');

    expect(report.paired?.matched).toBe(50);
    expect(report.first_copy).toBeNull();
    expect(await readFile(join(dir, 'report.md'), 'utf8')).not.toContain('earlier copy');
  });
});
