import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SEED_SUMMARY_KEYS, writePathSummaries } from '../lib/analysis';
import { csv, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

describe('writePathSummaries', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it("writes each path's JSON with the seed's keys, hand-checked figures and the trade-id loss", async () => {
    // prepare: baseline latencies 100..104 ms with trade 3 missing; backbone with a 90 ms leg
    const baseline = [trade(1, 100_000), trade(2, 101_000), trade(4, 103_000), trade(5, 104_000)];
    const backbone = [
      trade(1, 95_000, { legUs: 90_000 }),
      trade(2, 97_000, { legUs: 91_000 }),
      trade(3, 99_000, { legUs: 92_000 }),
    ];
    await writeFiles(dir, { 'baseline-results.csv': csv(baseline), 'backbone-results.csv': csv(backbone) });

    // act
    const result = await writePathSummaries(dir, ['baseline', 'backbone']);

    // assert
    const written = JSON.parse(await readFile(join(dir, 'baseline-results.json'), 'utf8'));
    expect(Object.keys(written).slice(0, SEED_SUMMARY_KEYS.length)).toEqual([...SEED_SUMMARY_KEYS]);
    expect(written).toMatchObject({
      setup_type: 'baseline',
      sample_count: 4,
      events_lost: 1,
      avg_latency_ms: 102,
      median_latency_ms: 102,
      // numpy: h = 3 * 0.95 = 2.85 → 103 + 0.85 * (104 - 103)
      p95_latency_ms: 103.85,
      p99_latency_ms: 103.97,
      min_latency_ms: 100,
      max_latency_ms: 104,
      jitter_stddev_ms: expect.closeTo(Math.sqrt(2.5), 6),
      backbone_avg_latency_ms: null,
      backbone_median_latency_ms: null,
    });
    expect(result.backbone).toMatchObject({
      sample_count: 3,
      events_lost: 0,
      median_latency_ms: 97,
      backbone_avg_latency_ms: 91,
      backbone_median_latency_ms: 91,
    });
  });

  it('maps a path without a CSV to undefined and writes nothing for it', async () => {
    await writeFiles(dir, { 'baseline-results.csv': csv([trade(7, 100_000)]) });

    const result = await writePathSummaries(dir, ['baseline', 'backbone']);

    expect(result.backbone).toBeUndefined();
    expect(result.baseline?.sample_count).toBe(1);
    await expect(readFile(join(dir, 'backbone-results.json'))).rejects.toThrow();
  });
});
