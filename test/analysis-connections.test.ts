import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeRun, type ConnectionAnalysis } from '../lib/analysis';
import type { Sample } from '../lib/samples';
import { LocalFolderStore } from '../lib/store';
import { percentileSorted } from '../lib/stats';
import { csv, E0_US, mulberry32, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

// One trade every 50 ms for 60 s: both halves hold 30 s of data, well above the evidence minimum.
const EVENTS = 1200;
const eventTime = (id: number): number => E0_US + id * 50_000;

/**
 * Both paths' rows: latencies in µs with 0–1 ms of uniform jitter each; the backbone's connection
 * (and, with `stepUs`, its latency) changes halfway through the run.
 */
function rows(options: { backboneConnection: (id: number) => number; stepUs: number }): {
  baseline: Sample[];
  backbone: Sample[];
} {
  const jitter = mulberry32(7);
  const baseline: Sample[] = [];
  const backbone: Sample[] = [];
  for (let id = 1; id <= EVENTS; id++) {
    const eUs = eventTime(id);
    baseline.push({ ...trade(id, 116_000 + Math.floor(jitter() * 1000), { eUs }), connection: 1 });
    const connection = options.backboneConnection(id);
    const latency = 114_000 + (connection === 2 ? options.stepUs : 0) + Math.floor(jitter() * 1000);
    backbone.push({ ...trade(id, latency, { eUs, legUs: 112_000 }), connection });
  }
  return { baseline, backbone };
}

async function analyse(dir: string, samples: { baseline: Sample[]; backbone: Sample[] }) {
  await writeFiles(dir, {
    'baseline-results.csv': csv(samples.baseline),
    'backbone-results.csv': csv(samples.backbone),
  });
  const { report } = await analyzeRun(new LocalFolderStore(dir), '');
  return {
    connections: report.connections as ConnectionAnalysis | null,
    paired: report.paired,
    verdict: report.verdict,
    markdown: await readFile(join(dir, 'report.md'), 'utf8'),
    html: await readFile(join(dir, 'report.html'), 'utf8'),
  };
}

describe('paired delta by connection pair', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('splits a run whose backbone reconnected to a 5 ms slower server into two pairs and flags the regime change', async () => {
    // prepare: the forwarder's upstream connection 2 from the middle of the run, 5 ms slower
    const samples = rows({ backboneConnection: (id) => (id <= EVENTS / 2 ? 1 : 2), stepUs: 5000 });

    // act
    const { connections, markdown, html, verdict } = await analyse(dir, samples);

    // assert
    expect(connections?.connections).toEqual({ baseline: [1], backbone: [1, 2] });
    expect(connections?.pairs).toHaveLength(2);
    const [before, after] = connections?.pairs ?? [];
    expect(before).toMatchObject({ baseline_connection: 1, backbone_connection: 1, matched: EVENTS / 2 });
    expect(after).toMatchObject({ baseline_connection: 1, backbone_connection: 2, matched: EVENTS / 2 });
    // backbone − baseline: −2 ms, then +3 ms (each ± the jitter's noise on the median)
    expect(before?.median_delta_ms).toBeGreaterThan(-2.3);
    expect(before?.median_delta_ms).toBeLessThan(-1.7);
    expect(after?.median_delta_ms).toBeGreaterThan(2.7);
    expect(after?.median_delta_ms).toBeLessThan(3.3);
    expect(before?.median_delta_ci_ms?.high).toBeLessThan(after?.median_delta_ci_ms?.low ?? -Infinity);
    // the pair's span: from the first to the last baseline arrival of the run's first half
    const arrivalUs = (i: number): number => Number((samples.baseline[i] as Sample).receiverNs / 1000n);
    expect(before?.span_s).toBeCloseTo((arrivalUs(EVENTS / 2 - 1) - arrivalUs(0)) / 1e6, 9);
    expect(before?.first_arrival).toBe(new Date(Math.round(arrivalUs(0) / 1000)).toISOString());
    expect(connections?.transitions).toHaveLength(1);
    expect(connections?.transitions[0]).toMatchObject({ from: 0, to: 1, regime_change: true });
    expect(connections?.transitions[0]?.change_ms).toBeCloseTo(5, 0);
    expect(connections?.regime_change).toBe(true);
    expect(markdown).toContain('## Paired delta by connection');
    expect(markdown).toMatch(/\| #1 \| #2 \| 600 \| \+3\.\d+ ms \|.*regime change \|/);
    expect(html).toContain('<h2>Paired delta by connection</h2>');
    // the verdict warns that its median mixes two regimes
    expect(verdict).toMatch(
      /changed regime when the connections changed \(median \+(4\.9|5\.0)\d* ms from baseline #1 \/ backbone #1 to baseline #1 \/ backbone #2\)/,
    );
  });

  it('splits a reconnect that changed nothing into two pairs without a regime change', async () => {
    const samples = rows({ backboneConnection: (id) => (id <= EVENTS / 2 ? 1 : 2), stepUs: 0 });

    const { connections, verdict } = await analyse(dir, samples);

    expect(connections?.pairs).toHaveLength(2);
    expect(verdict).not.toContain('regime');
    expect(connections?.transitions[0]?.regime_change).toBe(false);
    expect(connections?.regime_change).toBe(false);
  });

  it('does not split a run with one connection per path, and shows no table', async () => {
    const samples = rows({ backboneConnection: () => 1, stepUs: 0 });

    const { connections, paired, markdown, html } = await analyse(dir, samples);

    expect(connections?.pairs).toHaveLength(1);
    // The pair's median, from the samples themselves: every event's backbone − baseline arrival.
    const deltasMs = Float64Array.from(
      samples.backbone,
      (b, i) => Number(b.receiverNs - (samples.baseline[i] as Sample).receiverNs) / 1e6,
    ).sort();
    expect(connections?.pairs[0]).toMatchObject({
      baseline_connection: 1,
      backbone_connection: 1,
      matched: EVENTS,
    });
    expect(connections?.pairs[0]?.median_delta_ms).toBeCloseTo(percentileSorted(deltasMs, 50), 9);
    expect(paired?.delta_ms?.median).toBeCloseTo(percentileSorted(deltasMs, 50), 9);
    expect(connections?.transitions).toEqual([]);
    expect(connections?.regime_change).toBe(false);
    expect(markdown).not.toContain('Paired delta by connection');
    expect(html).not.toContain('Paired delta by connection');
  });

  it('has no connection section for CSVs without the connection column', async () => {
    const samples = rows({ backboneConnection: () => 1, stepUs: 0 });
    const strip = (s: Sample): Sample => ({ ...s, connection: undefined });

    const { connections } = await analyse(dir, {
      baseline: samples.baseline.map(strip),
      backbone: samples.backbone.map(strip),
    });

    expect(connections).toBeNull();
  });
});
