/** Helpers for the history tests: run folders analysed for real, and generated history records. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { failedHistoryRecord, HISTORY_SCHEMA, historyRecordSchema, type HistoryRecord } from '../lib/history';
import { csv, E0_US, mulberry32, trade } from './analysis-fixtures';

export interface RunFolderOptions {
  startedAt: string;
  /** Backbone − baseline latency of every event, µs (negative: backbone first). */
  deltaUs?: number;
  /** Every n-th trade id is missing on the baseline (a loss). */
  baselineLossEvery?: number;
  label?: string;
  events?: number;
  seed?: number;
}

/**
 * Writes a local run's files as `feedpath run` does (`<root>/<runId>/`: both CSVs, input.json and
 * run.json in the local shape) and returns the run's folder.
 */
export async function writeRunFolder(
  root: string,
  runId: string,
  options: RunFolderOptions,
): Promise<string> {
  const dir = join(root, runId);
  await mkdir(dir, { recursive: true });
  const uniform = mulberry32(options.seed ?? 7);
  const ids = Array.from({ length: options.events ?? 400 }, (_, i) => i + 1);
  const every = options.baselineLossEvery;
  const jitter = () => Math.round(uniform() * 800);
  const baseline = ids.filter((id) => every === undefined || id % every !== 0);
  // One trade every 20 ms: a default run has 8 s of data, above the evidence minimum.
  const eUs = (id: number): number => E0_US + id * 20_000;
  await writeFile(
    join(dir, 'baseline-results.csv'),
    csv(baseline.map((id) => trade(id, 114_000 + jitter(), { eUs: eUs(id) }))),
  );
  await writeFile(
    join(dir, 'backbone-results.csv'),
    csv(
      ids.map((id) =>
        trade(id, 114_000 + (options.deltaUs ?? -1000) + jitter(), { legUs: 113_000, eUs: eUs(id) }),
      ),
    ),
  );
  const started = new Date(options.startedAt);
  await writeFile(
    join(dir, 'input.json'),
    JSON.stringify({
      runId,
      durationSeconds: 30,
      streams: ['btcusdt@trade'],
      mode: 'paired',
      label: options.label,
    }),
  );
  await writeFile(
    join(dir, 'run.json'),
    JSON.stringify({
      runId,
      where: 'local',
      startedAt: started.toISOString(),
      endedAt: new Date(started.getTime() + 30_000).toISOString(),
      mode: 'paired',
      streams: ['btcusdt@trade'],
      regions: { forwarder: 'local', receiver: 'local' },
    }),
  );
  return dir;
}

/** A run id in the workflow's shape for an instant and an index. */
export function runIdAt(time: Date, index: number): string {
  const iso = time.toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${index.toString(36).padStart(4, '0')}`;
}

/** A generated record of a paired AWS run (`failed` gives a failed one, with no figures). */
export function syntheticRecord(
  index: number,
  options: { start?: Date; everyHours?: number; failed?: boolean; seed?: number } = {},
): HistoryRecord {
  const start = options.start ?? new Date('2026-01-01T00:00:00Z');
  const time = new Date(start.getTime() + index * (options.everyHours ?? 6) * 3_600_000);
  const uniform = mulberry32((options.seed ?? 1) * 100_003 + index);
  const runId = runIdAt(time, index);
  const prefix = `runs/${time.toISOString().slice(0, 10).replaceAll('-', '/')}/${runId}/`;
  const base = {
    schema: HISTORY_SCHEMA as typeof HISTORY_SCHEMA,
    run_id: runId,
    started_at: time.toISOString(),
    ended_at: new Date(time.getTime() + 300_000).toISOString(),
    recorded_at: new Date(time.getTime() + 400_000).toISOString(),
    label: 'scheduled',
    mode: 'paired',
    forwarder_region: 'ap-northeast-1',
    receiver_region: 'eu-central-1',
    forwarder_az_id: 'apne1-az4',
    receiver_az_id: 'euc1-az2',
    instance_type: 'c7i.large',
    streams: ['btcusdt@trade'],
  };
  if (options.failed === true) {
    // Written by the failed run's own writer, from the facts a workflow execution has.
    return failedHistoryRecord({
      runId,
      startedAt: base.started_at,
      endedAt: base.ended_at,
      error: 'AgentFailed',
      cause: `receiver command failed on run ${runId}`,
      input: {
        label: base.label,
        mode: base.mode,
        forwarderRegion: base.forwarder_region,
        receiverRegion: base.receiver_region,
        instanceType: base.instance_type,
        streams: base.streams,
      },
      run: {
        placement: {
          forwarder: { availabilityZoneId: base.forwarder_az_id },
          receiver: { availabilityZoneId: base.receiver_az_id },
        },
      },
      now: () => new Date(base.recorded_at),
    });
  }
  // A routing change every ~50 runs moves the delta; market hours move the tails.
  const delta = (Math.floor(index / 50) % 2 === 0 ? -1.2 : 0.4) + (uniform() - 0.5) * 0.6;
  const baselineMedian = 114 + uniform() * 3;
  const baselineLost = uniform() < 0.1 ? Math.floor(uniform() * 5) + 1 : 0;
  return historyRecordSchema.parse({
    ...base,
    status: 'succeeded',
    error: null,
    cause: null,
    comparison: 'paired',
    verdict: `${delta < 0 ? 'Backbone' : 'Baseline'} was faster: median delta ${delta.toFixed(2)} ms.`,
    report: `${prefix}report.html`,
    baseline_samples: 200_000,
    baseline_median_ms: baselineMedian,
    baseline_p99_ms: baselineMedian + 20 + uniform() * 10,
    baseline_jitter_ms: 4 + uniform(),
    baseline_lost: baselineLost,
    backbone_samples: 200_000,
    backbone_median_ms: baselineMedian + delta,
    backbone_p99_ms: baselineMedian + delta + 3 + uniform(),
    backbone_jitter_ms: 0.6 + uniform() * 0.2,
    backbone_lost: 0,
    matched_events: 199_990,
    paired_median_delta_ms: delta,
    paired_delta_ci_low_ms: delta - 0.05,
    paired_delta_ci_high_ms: delta + 0.05,
    paired_significant: true,
    backbone_first_share: delta < 0 ? 0.8 : 0.3,
    receiver_clock_error_bound_ms: 0.2,
    forwarder_clock_error_bound_ms: 0.3,
    loss_by_stream: [{ stream: 'btcusdt@trade', baseline_lost: baselineLost, backbone_lost: 0 }],
    // Hand-made records have no histograms, as records written before them: shown, not merged.
    baseline_histogram: null,
    backbone_histogram: null,
    paired_delta_histogram: null,
  });
}

/** Drawn marks in an SVG drawn by vega: the children of its `role-mark` groups (not axes, not legends). */
export function svgMarkCount(svg: string): number {
  let count = 0;
  for (const group of svg.matchAll(/<g class="mark-[a-z]+ role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)) {
    count += ((group[1] ?? '').match(/<(path|line|rect|text)\b/g) ?? []).length;
  }
  return count;
}
