/** A multi-receiver run's folder for the tests: each receiver's files under `receivers/<name>/`. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { formatRunFile } from '../lib/run-file';
import { agentMetricsJson, csv, E0_US, trade } from './analysis-fixtures';

/** One trade every 30 ms: 200 trades span 6 s, above the evidence minimum (lib/analysis/evidence.ts). */
const spaced = (id: number): number => E0_US + id * 30_000;
const IDS = Array.from({ length: 200 }, (_, i) => i + 1);

export interface ReceiverFixture {
  name: string;
  /** The baseline's latency, µs (plus 0–3 ms by trade id). */
  baselineUs: number;
  /** Backbone − baseline of every event, µs (negative: backbone first). */
  deltaUs: number;
  /** Its agent's metrics with this clock bound (none: no metrics file). */
  clockBoundMs?: number;
  region?: string;
}

/** A receiver's two results files, rows made by the receiver's own formatter. */
export function receiverFiles(baselineUs: number, deltaUs: number): Record<string, string> {
  return {
    'baseline-results.csv': csv(IDS.map((id) => trade(id, baselineUs + (id % 7) * 500, { eUs: spaced(id) }))),
    'backbone-results.csv': csv(
      IDS.map((id) =>
        trade(id, baselineUs + deltaUs + (id % 7) * 500, { legUs: baselineUs - 5_000, eUs: spaced(id) }),
      ),
    ),
  };
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}

/**
 * Writes a multi-receiver run under `dir`: input.json, run.json (through its schema, with
 * `receivers`), the forwarder's metrics at the run's prefix, and each receiver's files in its folder.
 */
export async function writeReceiversRun(
  dir: string,
  receivers: readonly ReceiverFixture[],
  options: { runId?: string; startedAt?: string; forwarderBoundMs?: number } = {},
): Promise<void> {
  const runId = options.runId ?? 'run-1';
  const files: Record<string, string> = {
    'input.json': JSON.stringify({
      runId,
      mode: 'paired',
      streams: ['btcusdt@trade'],
      durationSeconds: 30,
      forwarderRegion: 'ap-northeast-1',
    }),
    'run.json': formatRunFile({
      runId,
      where: 'local',
      startedAt: options.startedAt ?? '2024-08-08T10:00:00.000Z',
      status: 'succeeded',
      mode: 'paired',
      streams: ['btcusdt@trade'],
      receivers: receivers.map((r) => ({ name: r.name, region: r.region ?? r.name })),
    }),
    'metrics/forwarder.json': await agentMetricsJson('forwarder', options.forwarderBoundMs ?? 0.2),
  };
  for (const r of receivers) {
    for (const [name, text] of Object.entries(receiverFiles(r.baselineUs, r.deltaUs)))
      files[`receivers/${r.name}/${name}`] = text;
    if (r.clockBoundMs !== undefined)
      files[`receivers/${r.name}/metrics/receiver.json`] = await agentMetricsJson('receiver', r.clockBoundMs);
  }
  await writeFiles(dir, files);
}
