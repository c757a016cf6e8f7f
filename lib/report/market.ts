/** The market context in the report: its compact table, the latency by market state, and their notes. */
import type { MarketContext, StateFigures } from '../analysis/market';
import { count, ms, msDigits, percent } from './format';
import type { Report } from './model';
import type { Table } from './tables';

function price(value: number | null): string {
  return value === null ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: 8 });
}

function signedPrice(value: number | null): string {
  if (value === null) return '–';
  const text = price(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

/** "18:24:18 UTC" (the date once, in the note). */
function clock(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}

/** The run's market in one compact table: a figure per row. */
export function marketTable(report: Pick<Report, 'market'>): Table | null {
  const m: MarketContext | null | undefined = report.market;
  if (!m || m.events === 0) return null;
  const eps = m.events_per_second;
  const rows: string[][] = [
    ['events (exchange time E)', count(m.events)],
    ['seconds (first to last event)', count(m.seconds)],
    [
      'events per second: median / p90 / max',
      eps === null ? '–' : `${count(eps.median)} / ${count(eps.p90)} / ${count(eps.max)}`,
    ],
    [
      'busiest 10% of seconds',
      m.busy_threshold_events_per_s === null
        ? '–'
        : `${count(m.busy_seconds)} s with ≥ ${count(m.busy_threshold_events_per_s)} events`,
    ],
    [
      'busiest seconds',
      m.busiest_seconds.map((s) => `${clock(s.second)}: ${count(s.events)}`).join(', ') || '–',
    ],
    ['bursts (≥ 2 events in one exchange ms)', count(m.bursts)],
    ['events in bursts', percent(m.burst_share)],
    [
      'largest burst',
      m.largest_burst === null
        ? '–'
        : `${count(m.largest_burst.events)} events (${m.largest_burst.stream}, ${m.largest_burst.at.slice(11, 23)} UTC)`,
    ],
  ];
  if (m.trades !== null) rows.push(['trades / volume', `${count(m.trades)} / ${price(m.volume)}`]);
  for (const s of m.streams) {
    if (s.price_first === null) continue;
    rows.push([
      `${s.stream} price: low / high / change`,
      `${price(s.price_low)} / ${price(s.price_high)} / ${signedPrice(s.price_change)}`,
    ]);
  }
  if (m.events_without_time > 0)
    rows.push(['events without an exchange time (bookTicker)', count(m.events_without_time)]);
  return { head: ['market', 'value'], rows };
}

/** Where the figures come from, and what they mean. */
export function marketNote(report: Pick<Report, 'market'>): string | null {
  const m = report.market;
  if (!m || m.events === 0) return null;
  const from =
    m.replay === null
      ? `From the ${m.source}'s recorded events${m.events_lost !== null && m.events_lost > 0 ? ` (${count(m.events_lost)} events it lost are not counted)` : ''}`
      : `From the replayed capture ${m.replay.file} (its original event times, prices and quantities, found by id; the run replayed it at ${m.replay.speed}×)`;
  const day = m.first_second === null ? '' : `, ${m.first_second.slice(0, 10)}`;
  return `${from}${day}. ${m.definitions}`;
}

function cellOf(f: StateFigures, key: 'median' | 'p99', digits: number): string {
  const value = key === 'median' ? f.median_ms : f.p99_ms;
  const ci = key === 'median' ? f.median_ci_ms : f.p99_ci_ms;
  const body = ms(value, { digits });
  return ci === null ? body : `${body} (${ms(ci.low, { digits })} … ${ms(ci.high, { digits })})`;
}

const STATE_LABEL = {
  burst: 'in bursts',
  single: 'single events',
  busy: 'busiest 10% of seconds',
  rest: 'other seconds',
} as const;

/** Each path's and the paired delta's median and p99 per market state, with their 95% intervals. */
export function marketStateTable(report: Pick<Report, 'market'>): Table | null {
  const byState = report.market?.by_state;
  if (!byState || byState.states.length === 0) return null;
  const digits = 2;
  return {
    head: [
      'market state',
      'matched events',
      'baseline median',
      'baseline p99',
      'backbone median',
      'backbone p99',
      'delta median',
      'delta p99',
    ],
    rows: byState.states.map((s) => [
      STATE_LABEL[s.state],
      `${count(s.events)} (${percent(s.share)})${s.evidence.sufficient ? '' : ' – too few'}`,
      cellOf(s.baseline, 'median', digits),
      cellOf(s.baseline, 'p99', digits),
      cellOf(s.backbone, 'median', digits),
      cellOf(s.backbone, 'p99', digits),
      cellOf(s.delta, 'median', Math.max(digits, msDigits(s.delta.median_ms))),
      cellOf(s.delta, 'p99', digits),
    ]),
  };
}

/** The text under the by-state table: units, intervals and when the verdict speaks of it. */
export function marketStateNote(report: Pick<Report, 'market'>): string | null {
  const byState = report.market?.by_state;
  if (!byState) return null;
  return `ms; in brackets the 95% interval (time blocks, as the verdict's). Delta = backbone − baseline arrival of the same event (negative: backbone first). ${byState.rule}`;
}
