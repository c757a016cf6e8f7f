import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeCommand } from '../cli/analyze';
import type { Sample } from '../lib/samples';
import { csv, E0_US, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

/** One trade every 25 ms for `seconds`; the backbone delivers each one 2 ms before the baseline. */
function run(seconds: number): { baseline: Sample[]; backbone: Sample[] } {
  const n = (seconds * 1000) / 25;
  const baseline: Sample[] = [];
  const backbone: Sample[] = [];
  for (let id = 1; id <= n; id++) {
    const eUs = E0_US + id * 25_000;
    baseline.push(trade(id, 116_000 + (id % 5) * 300, { eUs }));
    backbone.push(trade(id, 114_000 + (id % 5) * 300, { eUs, legUs: 112_000 }));
  }
  return { baseline, backbone };
}

/** Keeps the samples received in the first `seconds` of the run (a path that died then). */
function until(samples: Sample[], seconds: number): Sample[] {
  const end = BigInt(E0_US + seconds * 1e6) * 1000n;
  return samples.filter((s) => s.receiverNs <= end);
}

describe('loss at the tail', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('counts the events after a dead backbone’s last record as backbone loss (12 s of a 35 s run)', async () => {
    // prepare
    const { baseline, backbone } = run(35);
    const kept = until(backbone, 12);
    const truncated = backbone.length - kept.length;
    await writeFiles(dir, { 'baseline-results.csv': csv(baseline), 'backbone-results.csv': csv(kept) });

    // act
    const result = await analyzeCommand(dir);

    // assert
    const summary = JSON.parse(await readFile(join(dir, 'backbone-results.json'), 'utf8'));
    expect(truncated).toBeGreaterThan(800);
    expect(summary).toMatchObject({ events_lost: truncated, events_lost_tail: truncated });
    expect(result.report.summaries.backbone).toMatchObject({
      events_lost: truncated,
      events_lost_tail: truncated,
    });
    expect(result.report.summaries.baseline).toMatchObject({ events_lost: 0, events_lost_tail: 0 });
    expect(result.report.loss.backbone?.per_stream[0]).toMatchObject({
      events_lost: truncated,
      events_lost_tail: truncated,
    });
    expect(result.report.loss.backbone?.silent_before_end_s).toBeCloseTo(23, 0);
    const lastNs = (kept[kept.length - 1] as Sample).receiverNs;
    expect(summary.last_arrival).toBe(new Date(Math.round(Number(lastNs) / 1e6)).toISOString());
    expect(result.report.paired?.baseline_only).toBe(truncated); // still shown as seen on one path
    expect(result.verdict).toContain(
      `backbone lost ${truncated.toLocaleString('en-US')} events (the last 23 s)`,
    );
  });

  it('counts a dead baseline’s tail, leaving out what was still in flight on it when the run stopped', async () => {
    const { baseline, backbone } = run(35);
    const kept = until(baseline, 12);
    await writeFiles(dir, { 'baseline-results.csv': csv(kept), 'backbone-results.csv': csv(backbone) });

    const result = await analyzeCommand(dir);

    // The baseline lags the backbone by 2 ms: the backbone's last event (at the run's last instant)
    // would have reached a live baseline only after the end, so it is not counted.
    const tail = baseline.length - kept.length - 1;
    expect(result.report.summaries.baseline).toMatchObject({ events_lost: tail, events_lost_tail: tail });
    expect(result.report.summaries.backbone?.events_lost).toBe(0);
  });

  it('does not count the slower path’s events in flight at the end of a healthy run as loss', async () => {
    // Both paths stop at the same receiver instant; the baseline, 2 ms slower, misses the last event.
    const { baseline, backbone } = run(10);
    const stop = BigInt(E0_US + 10e6 + 114_000 + 1200 + 500) * 1000n;
    await writeFiles(dir, {
      'baseline-results.csv': csv(baseline.filter((s) => s.receiverNs <= stop)),
      'backbone-results.csv': csv(backbone.filter((s) => s.receiverNs <= stop)),
    });

    const result = await analyzeCommand(dir);

    expect(result.report.paired?.backbone_only).toBe(1);
    expect(result.report.summaries.baseline).toMatchObject({ events_lost: 0, events_lost_tail: 0 });
  });

  it('keeps bookTicker loss not measurable, tail or not', async () => {
    const ticker = (s: Sample): Sample => ({ ...s, stream: 'btcusdt@bookTicker', exchangeTimeUs: undefined });
    const { baseline, backbone } = run(20);
    await writeFiles(dir, {
      'baseline-results.csv': csv(baseline.map(ticker)),
      'backbone-results.csv': csv(until(backbone, 5).map(ticker)),
    });

    const result = await analyzeCommand(dir);

    expect(result.report.summaries.backbone).toMatchObject({ events_lost: null, events_lost_tail: null });
  });
});
