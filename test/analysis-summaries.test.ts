import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEED_SUMMARY_KEYS, writePathSummaries } from '../lib/analysis';
import { CSV_HEADER, formatSampleRow, type Sample } from '../lib/samples';

const E0_US = 1_723_100_000_000_000;

function trade(id: number, latencyUs: number, legUs?: number): Sample {
  const exchangeTimeUs = E0_US + id * 1000;
  const receiverNs = BigInt(exchangeTimeUs + latencyUs) * 1000n;
  return {
    id,
    stream: 'btcusdt@trade',
    symbol: 'btcusdt',
    exchangeTimeUs,
    forwarderNs: legUs === undefined ? undefined : receiverNs - BigInt(legUs) * 1000n,
    receiverNs,
    firstId: undefined,
  };
}

describe('writePathSummaries', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'feedpath-summaries-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes each path's JSON with the seed's keys, hand-checked figures and the trade-id loss", async () => {
    // prepare: baseline latencies 100..104 ms with trade 3 missing; backbone with a 90 ms leg
    const baseline = [trade(1, 100_000), trade(2, 101_000), trade(4, 103_000), trade(5, 104_000)];
    const backbone = [trade(1, 95_000, 90_000), trade(2, 97_000, 91_000), trade(3, 99_000, 92_000)];
    await writeFile(
      join(dir, 'baseline-results.csv'),
      CSV_HEADER + '\n' + baseline.map(formatSampleRow).join(''),
    );
    await writeFile(
      join(dir, 'backbone-results.csv'),
      CSV_HEADER + '\n' + backbone.map(formatSampleRow).join(''),
    );

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
    await writeFile(
      join(dir, 'baseline-results.csv'),
      CSV_HEADER + '\n' + formatSampleRow(trade(7, 100_000)),
    );

    const result = await writePathSummaries(dir, ['baseline', 'backbone']);

    expect(result.backbone).toBeUndefined();
    expect(result.baseline?.sample_count).toBe(1);
    await expect(readFile(join(dir, 'backbone-results.json'))).rejects.toThrow();
  });
});
