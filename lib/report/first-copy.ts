/** The earlier copy in the report: its table and the line that says what it is. */
import type { FirstCopyAnalysis } from '../analysis/first-copy';
import type { PathName } from '../samples';
import { count, ms, msDigits, percent } from './format';
import type { Report } from './model';
import type { Table } from './tables';

/**
 * The earlier copy's p50/p99/p99.9 beside each path's own (over all its events: on the events both
 * delivered they differ only by the few the other path missed), and the per-event gain over each.
 */
export function firstCopyTable(report: Pick<Report, 'first_copy' | 'latency_ms'>): Table | null {
  const f: FirstCopyAnalysis | null = report.first_copy;
  if (f === null) return null;
  // Two decimals at least: the rows differ by fractions of a ms at ~100 ms.
  const digits = 2;
  const gainDigits = msDigits(f.gain_ms.baseline.p99, f.gain_ms.backbone.p99);
  const alone = (path: PathName): string[] => {
    const d = report.latency_ms[path];
    const gain = f.gain_ms[path];
    return [
      `${path} alone (all its events)`,
      ms(d?.median, { digits }),
      ms(d?.p99, { digits }),
      ms(d?.p999, { digits }),
      ms(gain.median, { digits: gainDigits }),
      ms(gain.p99, { digits: gainDigits }),
      percent(f.first_share[path]),
      count(f.only_one_path[path]),
    ];
  };
  return {
    head: [
      'latency (ms)',
      'p50',
      'p99',
      'p99.9',
      'earlier copy saves: median',
      'saves: p99',
      'this path first',
      'events only this path delivered',
    ],
    rows: [
      [
        'earlier copy (both paths)',
        ms(f.latency_ms.median, { digits }),
        ms(f.latency_ms.p99, { digits }),
        ms(f.latency_ms.p999, { digits }),
        '–',
        '–',
        '–',
        '–',
      ],
      alone('baseline'),
      alone('backbone'),
    ],
  };
}

/** The line above the table: what the earlier copy is, over which events. */
export function firstCopyNote(report: Pick<Report, 'first_copy'>): string | null {
  const f = report.first_copy;
  if (f === null) return null;
  const left =
    f.without_latency > 0
      ? `; ${count(f.without_latency)} matched events without a latency on a path are left out`
      : '';
  return `${f.note} Over the ${count(f.events)} events both paths delivered (same ns on both: ${percent(f.first_share.tie)})${left}; events only one path delivered are counted in the last column, not in the percentiles.`;
}
