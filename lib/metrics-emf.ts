/**
 * A run's figures as CloudWatch metrics in Embedded Metric Format, written with AWS Lambda
 * Powertools' Metrics: one JSON document on the analyze Lambda's stdout (Powertools writes it with a
 * console of its own, without the time, request id and level Lambda's console.log would prefix, so
 * CloudWatch Logs can extract the metrics). No PutMetricData call, no IAM.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { HistoryRecord } from './history';

export const EMF_NAMESPACE = 'Feedpath';

/** The `service` dimension Powertools puts in every dimension set. */
export const EMF_SERVICE = 'feedpath';

/**
 * Two dimension sets: per region pair and stream, and per region pair alone (what the alarm in
 * cloudformation/history-alarm.yml watches, whatever the streams). A run with several streams has
 * them joined by commas in `Stream`.
 */
export const EMF_DIMENSIONS = [
  ['service', 'ForwarderRegion', 'ReceiverRegion', 'Stream'],
  ['service', 'ForwarderRegion', 'ReceiverRegion'],
];

type EmfUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Metric name, unit, and where its value is in the history record. */
export const EMF_METRICS: readonly (readonly [string, EmfUnit, (r: HistoryRecord) => number | null])[] = [
  ['PairedMedianDeltaMs', MetricUnit.Milliseconds, (r) => r.paired_median_delta_ms],
  ['BaselineMedianMs', MetricUnit.Milliseconds, (r) => r.baseline_median_ms],
  ['BackboneMedianMs', MetricUnit.Milliseconds, (r) => r.backbone_median_ms],
  ['BaselineP99Ms', MetricUnit.Milliseconds, (r) => r.baseline_p99_ms],
  ['BackboneP99Ms', MetricUnit.Milliseconds, (r) => r.backbone_p99_ms],
  ['BaselineLost', MetricUnit.Count, (r) => r.baseline_lost],
  ['BackboneLost', MetricUnit.Count, (r) => r.backbone_lost],
  // A share in [0, 1]: CloudWatch's Percent unit would suggest 0–100.
  ['BackboneFirstShare', MetricUnit.NoUnit, (r) => r.backbone_first_share],
];

/**
 * The run's metrics, stored in a Powertools Metrics instance ready to publish, or null when the run
 * has no figure (a failed run). Only the metrics the run measured are added: a metric without a
 * value would be dropped by CloudWatch anyway. RunId, Mode, Label and Status ride along as metadata
 * (searchable in Logs Insights, not dimensions: a dimension per run would create a metric per run).
 *
 * The region pair is the default dimension set; `addDimensions` adds the set with `Stream`, and an
 * empty `addDimensions({})` the set of the region pair alone (Powertools 2.36: each call is one set,
 * the default dimensions included; test/emf.test.ts pins the resulting document).
 */
export function runMetrics(record: HistoryRecord, options: { timestamp?: number } = {}): Metrics | null {
  const measured = EMF_METRICS.map(([name, unit, value]) => ({ name, unit, value: value(record) })).filter(
    (m): m is { name: string; unit: EmfUnit; value: number } => m.value !== null && Number.isFinite(m.value),
  );
  if (measured.length === 0) return null;
  const metrics = new Metrics({
    namespace: EMF_NAMESPACE,
    serviceName: EMF_SERVICE,
    defaultDimensions: {
      ForwarderRegion: record.forwarder_region ?? 'none',
      ReceiverRegion: record.receiver_region ?? 'none',
    },
  });
  metrics.addDimensions({ Stream: record.streams.length > 0 ? record.streams.join(',') : 'unknown' });
  metrics.addDimensions({});
  // One receiver of a multi-receiver run adds a third set with its name: its record's
  // `ReceiverRegion` is its own region, so the two sets above (and the alarm) read per region as for
  // a run with one receiver, and a run with one receiver publishes exactly the two sets above.
  if (record.receiver !== null) metrics.addDimensions({ Receiver: record.receiver });
  for (const m of measured) metrics.addMetric(m.name, m.unit, m.value);
  const metadata = { RunId: record.run_id, Mode: record.mode, Label: record.label, Status: record.status };
  for (const [key, value] of Object.entries(metadata)) if (value !== null) metrics.addMetadata(key, value);
  if (options.timestamp !== undefined) metrics.setTimestamp(options.timestamp);
  return metrics;
}

/** Publishes the run's EMF document as one line on stdout; returns whether there was one. */
export function writeEmf(record: HistoryRecord, options: { timestamp?: number } = {}): boolean {
  const metrics = runMetrics(record, options);
  if (metrics === null) return false;
  metrics.publishStoredMetrics();
  return true;
}
