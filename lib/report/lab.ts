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

/**
 * Per path and leg (ms): measured − the profile's delay (residual: what a user compares with the
 * profile) and measured − what the links applied (overhead: the lab's raw cost, hop compensation
 * included), side by side so the compensation hides nothing; null for a run with no lab data.
 */
export function labTable(report: Pick<Report, 'lab'>): Table | null {
  const lab = report.lab;
  if (lab === undefined) return null;
  const rows = LEG_NAMES.flatMap(([key, name]) => {
    const leg: LabLeg | null = lab.overhead[key];
    if (leg === null) return [];
    const o = leg.overhead_ms;
    const r = leg.residual_ms;
    return [
      [
        name,
        count(leg.matched),
        count(leg.unmatched),
        ms(leg.emulated_ms?.median),
        ms(leg.compensation_ms?.median),
        ms(leg.measured_ms?.median),
        ms(r?.median, { sign: true }),
        ms(r?.p99, { sign: true }),
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
      'applied median',
      'hop compensation',
      'measured median',
      'residual median',
      'residual p99',
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
    : `Residual = measured − the profile's delay (what the lab's figures differ from the profile by). Overhead = measured − the delay the links applied: what the lab itself adds (loopback hops, the agents and the simulator as processes, the link emulators' lateness). The links release each chunk early by the hop compensation (the lab's measured cost of the two loopback hops around each link; 0 with --no-hop-compensation), so residual = overhead − compensation. ${report.lab.matching}`;
}

/**
 * "lab check: the lab itself added +0.41 ms (baseline), … at the median" and, when the links
 * compensated for the hops, "; after the links' hop compensation the medians are +0.05 ms
 * (baseline), … off the profile" — null with no lab data.
 */
function labClause(report: Pick<Report, 'lab'>): string | null {
  const overhead = report.lab?.overhead;
  if (overhead === undefined) return null;
  const added: string[] = [];
  const residual: string[] = [];
  let compensated = false;
  for (const key of ['baseline', 'backbone', 'paired_delta'] as const) {
    const leg = overhead[key];
    const name = key === 'paired_delta' ? 'paired delta' : key;
    const median = leg?.overhead_ms?.median;
    if (median !== undefined) added.push(`${ms(median, { sign: true })} ms (${name})`);
    const left = leg?.residual_ms?.median;
    if (left !== undefined) residual.push(`${ms(left, { sign: true })} ms (${name})`);
    if ((leg?.compensation_ms?.max ?? 0) !== 0) compensated = true;
  }
  if (added.length === 0) return null;
  const clause = `lab check: the lab itself added ${added.join(', ')} at the median`;
  return compensated && residual.length > 0
    ? `${clause}; after the links' hop compensation the medians are ${residual.join(', ')} off the profile`
    : clause;
}

/** The verdict with the lab clause appended (local runs with lab data), as its own sentence. */
export function withLabClause(verdict: string, report: Pick<Report, 'lab'>): string {
  const clause = labClause(report);
  if (clause === null) return verdict;
  return `${verdict}${verdict.endsWith('.') ? '' : '.'} ${clause[0]?.toUpperCase()}${clause.slice(1)}.`;
}
