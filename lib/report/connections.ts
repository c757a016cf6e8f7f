/** The paired delta by connection pair in the report: its table, note and verdict clause. */
import type { ConnectionAnalysis, ConnectionPair } from '../analysis/connections';
import { count, ms, msDigits } from './format';
import type { Report } from './model';
import type { Table } from './tables';

function connectionName(ordinal: number | null): string {
  return ordinal === null ? 'not recorded' : `#${ordinal}`;
}

/** Time of day of an ISO time (the runs are hours long at most; the date is in the metadata). */
function timeOfDay(iso: string | null): string {
  return iso === null ? '–' : iso.slice(11);
}

function pairName(pair: ConnectionPair): string {
  return `baseline ${connectionName(pair.baseline_connection)} / backbone ${connectionName(pair.backbone_connection)}`;
}

/** One row per connection pair; null unless the run had more than one pair. */
export function connectionsTable(report: Pick<Report, 'connections'>): Table | null {
  const c: ConnectionAnalysis | null = report.connections;
  if (c === null || c.pairs.length < 2) return null;
  const digits = msDigits(
    ...c.pairs.flatMap((p) => [p.median_delta_ms, p.median_delta_ci_ms?.low, p.median_delta_ci_ms?.high]),
  );
  return {
    head: [
      'baseline connection',
      'backbone connection',
      'matched',
      'median delta (backbone − baseline)',
      '95% CI',
      'from',
      'to',
      'span (s)',
      'vs the pair before',
    ],
    rows: c.pairs.map((p, i) => {
      const ci = p.median_delta_ci_ms;
      const t = c.transitions.find((x) => x.to === i);
      const change =
        t === undefined
          ? '–'
          : `${ms(t.change_ms, { sign: true, digits })} ms${t.regime_change === true ? ', regime change' : t.regime_change === null ? ', not compared' : ''}`;
      return [
        connectionName(p.baseline_connection),
        connectionName(p.backbone_connection),
        count(p.matched),
        `${ms(p.median_delta_ms, { sign: true, digits })} ms`,
        ci === null ? '–' : `${ms(ci.low, { digits })} … ${ms(ci.high, { digits })} ms`,
        timeOfDay(p.first_arrival),
        timeOfDay(p.last_arrival),
        p.span_s.toFixed(1),
        change,
      ];
    }),
  };
}

/** The text under the table: what a pair is and when pairs differ. */
export function connectionsNote(report: Pick<Report, 'connections'>): string | null {
  const c = report.connections;
  if (c === null || c.pairs.length < 2) return null;
  return `Each matched event falls in the pair of connections that delivered its two copies (baseline: the receiver's own connection; backbone: the forwarder's connection to the exchange); a reconnect can reach another exchange server with another delay. Regime change: ${c.rule}.`;
}

/**
 * "the paired delta changed regime when the connections changed: median +5.00 ms from baseline #1 /
 * backbone #1 to baseline #1 / backbone #2" — null without a regime change. For the verdict.
 */
export function regimeChangeClause(report: Pick<Report, 'connections'>): string | null {
  const c = report.connections;
  if (c === null || !c.regime_change) return null;
  const changes = c.transitions
    .filter((t) => t.regime_change === true)
    .map((t) => {
      const from = c.pairs[t.from] as ConnectionPair;
      const to = c.pairs[t.to] as ConnectionPair;
      return `median ${ms(t.change_ms, { sign: true })} ms from ${pairName(from)} to ${pairName(to)}`;
    });
  return `the paired delta changed regime when the connections changed (${changes.join('; ')}): the run's median mixes the regimes, see the delta by connection`;
}
