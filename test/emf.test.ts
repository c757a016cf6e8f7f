/** The analyze Lambda's CloudWatch metrics: the exact Embedded Metric Format document on stdout. */
import { writeEmf } from '../lib/metrics-emf';
import type { HistoryRecord } from '../lib/history/record';
import { syntheticRecord } from './history-fixtures';

// CloudWatch takes EMF timestamps from 14 days back to 2 hours ahead (Powertools warns outside).
const TIMESTAMP = Math.floor(Date.now() / 1000) * 1000 - 60_000;

/** Runs writeEmf and returns what it wrote to stdout, line by line. */
function emfLines(record: HistoryRecord): { written: boolean; lines: string[] } {
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const written = writeEmf(record, { timestamp: TIMESTAMP });
    const text = stdout.mock.calls.map(([chunk]) => String(chunk)).join('');
    return { written, lines: text.split('\n').filter((line) => line !== '') };
  } finally {
    stdout.mockRestore();
  }
}

describe('EMF metrics', () => {
  it('writes a paired run as one document: namespace, dimension sets, units and values', () => {
    // prepare
    const record = {
      ...syntheticRecord(0),
      streams: ['btcusdt@trade', 'ethusdt@trade'],
      baseline_median_ms: 115.2,
      backbone_median_ms: 114.1,
      baseline_p99_ms: 139.5,
      backbone_p99_ms: 117.25,
      baseline_lost: 2,
      backbone_lost: 0,
      paired_median_delta_ms: -1.1,
      backbone_first_share: 0.81,
    };

    // act
    const { written, lines } = emfLines(record);

    // assert: one line that is the JSON document itself (no log prefix)
    expect(written).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.startsWith('{"_aws":')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      _aws: {
        Timestamp: TIMESTAMP,
        CloudWatchMetrics: [
          {
            Namespace: 'Feedpath',
            Dimensions: [
              ['service', 'ForwarderRegion', 'ReceiverRegion', 'Stream'],
              ['service', 'ForwarderRegion', 'ReceiverRegion'],
            ],
            Metrics: [
              { Name: 'PairedMedianDeltaMs', Unit: 'Milliseconds' },
              { Name: 'BaselineMedianMs', Unit: 'Milliseconds' },
              { Name: 'BackboneMedianMs', Unit: 'Milliseconds' },
              { Name: 'BaselineP99Ms', Unit: 'Milliseconds' },
              { Name: 'BackboneP99Ms', Unit: 'Milliseconds' },
              { Name: 'BaselineLost', Unit: 'Count' },
              { Name: 'BackboneLost', Unit: 'Count' },
              { Name: 'BackboneFirstShare', Unit: 'None' },
            ],
          },
        ],
      },
      service: 'feedpath',
      ForwarderRegion: 'ap-northeast-1',
      ReceiverRegion: 'eu-central-1',
      Stream: 'btcusdt@trade,ethusdt@trade',
      RunId: record.run_id,
      Mode: 'paired',
      Label: 'scheduled',
      Status: 'succeeded',
      PairedMedianDeltaMs: -1.1,
      BaselineMedianMs: 115.2,
      BackboneMedianMs: 114.1,
      BaselineP99Ms: 139.5,
      BackboneP99Ms: 117.25,
      BaselineLost: 2,
      BackboneLost: 0,
      BackboneFirstShare: 0.81,
    });
  });

  it('declares only the metrics a baseline-only run measured', () => {
    const record = {
      ...syntheticRecord(1),
      mode: 'baseline',
      backbone_samples: null,
      backbone_median_ms: null,
      backbone_p99_ms: null,
      backbone_lost: null,
      paired_median_delta_ms: null,
      backbone_first_share: null,
    };

    const { lines } = emfLines(record);
    const document = JSON.parse(lines[0] ?? '{}') as {
      _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
    };

    expect(lines).toHaveLength(1);
    expect(document._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual([
      'BaselineMedianMs',
      'BaselineP99Ms',
      'BaselineLost',
    ]);
    expect(Object.keys(document).filter((k) => /Ms$|Lost$|Share$/.test(k))).toEqual([
      'BaselineMedianMs',
      'BaselineP99Ms',
      'BaselineLost',
    ]);
  });

  it('writes nothing for a failed run', () => {
    const { written, lines } = emfLines(syntheticRecord(2, { failed: true }));

    expect(written).toBe(false);
    expect(lines).toEqual([]);
  });
});
