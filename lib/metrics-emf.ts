/**
 * A run's figures as CloudWatch metrics in Embedded Metric Format: one JSON document written to the
 * analyze Lambda's stdout, which CloudWatch Logs turns into metrics (no PutMetricData call, no IAM).
 *
 * AWS Lambda Powertools' Metrics is the idiomatic way to write EMF, but it is not a dependency of
 * this project and none can be added here, so the document is built by hand following the
 * specification (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * `_aws.Timestamp` (epoch ms), `_aws.CloudWatchMetrics[{Namespace, Dimensions, Metrics}]`, and each
 * metric's value and each dimension's value as a top-level member.
 */
import type { HistoryRecord } from './history';

export const EMF_NAMESPACE = 'Feedpath';

/**
 * Two dimension sets: per region pair and stream, and per region pair alone (what the alarm in
 * cloudformation/history.yml watches, whatever the streams). A run with several streams has them
 * joined by commas in `Stream`.
 */
export const EMF_DIMENSIONS = [
  ['ForwarderRegion', 'ReceiverRegion', 'Stream'],
  ['ForwarderRegion', 'ReceiverRegion'],
];

export type EmfUnit = 'Milliseconds' | 'Count' | 'None';

/** Metric name, unit, and where its value is in the history record. */
export const EMF_METRICS: readonly (readonly [string, EmfUnit, (r: HistoryRecord) => number | null])[] = [
  ['PairedMedianDeltaMs', 'Milliseconds', (r) => r.paired_median_delta_ms],
  ['BaselineMedianMs', 'Milliseconds', (r) => r.baseline_median_ms],
  ['BackboneMedianMs', 'Milliseconds', (r) => r.backbone_median_ms],
  ['BaselineP99Ms', 'Milliseconds', (r) => r.baseline_p99_ms],
  ['BackboneP99Ms', 'Milliseconds', (r) => r.backbone_p99_ms],
  ['BaselineLost', 'Count', (r) => r.baseline_lost],
  ['BackboneLost', 'Count', (r) => r.backbone_lost],
  // A share in [0, 1]: CloudWatch's Percent unit would suggest 0–100.
  ['BackboneFirstShare', 'None', (r) => r.backbone_first_share],
];

export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: EmfUnit }[];
    }[];
  };
  ForwarderRegion: string;
  ReceiverRegion: string;
  Stream: string;
  [member: string]: unknown;
}

/**
 * The run's EMF document, or null when it has no figure (a failed run). Only the metrics the run
 * measured are declared: a metric without a value would be dropped by CloudWatch anyway. RunId,
 * Mode, Label and Status ride along as plain members (searchable in Logs Insights, not dimensions:
 * a dimension per run would create a metric per run).
 */
export function emfDocument(record: HistoryRecord, options: { timestamp?: number } = {}): EmfDocument | null {
  const measured = EMF_METRICS.map(([name, unit, value]) => ({ name, unit, value: value(record) })).filter(
    (m): m is { name: string; unit: EmfUnit; value: number } => m.value !== null && Number.isFinite(m.value),
  );
  if (measured.length === 0) return null;
  const document: EmfDocument = {
    _aws: {
      Timestamp: options.timestamp ?? Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: EMF_NAMESPACE,
          Dimensions: EMF_DIMENSIONS.map((set) => [...set]),
          Metrics: measured.map((m) => ({ Name: m.name, Unit: m.unit })),
        },
      ],
    },
    ForwarderRegion: record.forwarder_region ?? 'none',
    ReceiverRegion: record.receiver_region ?? 'none',
    Stream: record.streams.length > 0 ? record.streams.join(',') : 'unknown',
    RunId: record.run_id,
    Mode: record.mode,
    Label: record.label,
    Status: record.status,
  };
  for (const m of measured) document[m.name] = m.value;
  return document;
}

/**
 * Writes the run's EMF document as one line. Straight to stdout, not console.log: in Lambda,
 * console.log prefixes each line with a time, the request id and a level, and CloudWatch only
 * extracts metrics from a log event that is the JSON document itself. Returns whether one was written.
 */
export function writeEmf(
  record: HistoryRecord,
  write: (line: string) => void = (line) => process.stdout.write(line),
  options: { timestamp?: number } = {},
): boolean {
  const document = emfDocument(record, options);
  if (document === null) return false;
  write(`${JSON.stringify(document)}\n`);
  return true;
}
