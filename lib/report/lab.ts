/** The lab check in the report: its table (report.md, report.html) and its clause in the verdict. */
import type { LabLeg } from '../analysis/lab';
import { count, ms } from './format';
import type { Report } from './model';
import type { Table } from './tables';

const LEG_NAMES: [keyof NonNullable<Report['lab']>['overhead'], string][] = [
  ['baseline', 'baseline: exchange → receiver'],
  ['backbone', 'backbone: exchange → receiver'],
  ['exchange_to_forwarder', 'backbone leg: exchange → forwarder'],
  ['forwarder_to_receiver', 'backbone leg: forwarder → receiver'],
  ['paired_delta', 'paired delta (backbone − baseline)'],
];

/** Measured − emulated delay per path and leg (ms); null for a run with no lab data. */
export function labTable(report: Pick<Report, 'lab'>): Table | null {
  const lab = report.lab;
  if (lab === undefined) return null;
  const rows = LEG_NAMES.flatMap(([key, name]) => {
    const leg: LabLeg | null = lab.overhead[key];
    if (leg === null) return [];
    const o = leg.overhead_ms;
    return [
      [
        name,
        count(leg.matched),
        count(leg.unmatched),
        ms(leg.emulated_ms?.median),
        ms(leg.measured_ms?.median),
        ms(o?.median, { sign: true }),
        ms(o?.p99, { sign: true }),
        ms(o?.max, { sign: true }),
      ],
    ];
  });
  return {
    head: [
      'path / leg',
      'matched',
      'unmatched',
      'emulated median',
      'measured median',
      'overhead median',
      'overhead p99',
      'overhead max',
    ],
    rows,
  };
}

/** The text under the lab table: how messages are matched to the emulators' chunks. */
export function labNote(report: Pick<Report, 'lab'>): string | null {
  return report.lab === undefined
    ? null
    : `Overhead = measured − emulated delay: what the lab itself adds (loopback, the agents and the simulator as processes, the link emulators' lateness). ${report.lab.matching}`;
}

/** "the lab itself added 0.41 ms (baseline) and 0.87 ms (backbone) at the median" — null with no lab data. */
function labClause(report: Pick<Report, 'lab'>): string | null {
  const overhead = report.lab?.overhead;
  if (overhead === undefined) return null;
  const parts: string[] = [];
  for (const key of ['baseline', 'backbone', 'paired_delta'] as const) {
    const median = overhead[key]?.overhead_ms?.median;
    if (median !== undefined) {
      parts.push(`${ms(median, { sign: true })} ms (${key === 'paired_delta' ? 'paired delta' : key})`);
    }
  }
  return parts.length === 0 ? null : `lab check: the lab itself added ${parts.join(', ')} at the median`;
}

/** The verdict with the lab clause appended (local runs with lab data), as its own sentence. */
export function withLabClause(verdict: string, report: Pick<Report, 'lab'>): string {
  const clause = labClause(report);
  if (clause === null) return verdict;
  return `${verdict}${verdict.endsWith('.') ? '' : '.'} ${clause[0]?.toUpperCase()}${clause.slice(1)}.`;
}
