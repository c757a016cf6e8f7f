/**
 * The latency by market state: each path's and the paired delta's median and p99 in bursts vs
 * single events and in the busiest 10% of seconds vs the rest (the states are defined in market.ts),
 * and the verdict's clause when the backbone's advantage changes with them.
 */
import { forEachMatch } from './paired';
import type { PathKeys } from './path';
import { assessEvidence } from './evidence';
import type { PathName } from '../samples';
import {
  blockQuantileCI,
  INTERVAL_METHOD,
  receiveTimeBlocks,
  sortValues,
  type BlockInterval,
} from '../stats';
import { ms } from '../report/format';
import {
  IN_BURST,
  IN_BUSY_SECOND,
  type LatencyByMarketState,
  type MarketContext,
  type MarketStateRow,
  type StateFigures,
} from './market';

export const MARKET_STATE_RULE =
  'The backbone’s advantage changes with the market state when, in bursts vs single events or in the busiest 10% of seconds vs the rest, both states have enough matched events for a verdict (100 events over 5 s) and the 95% intervals of their median deltas do not overlap.';

const STATE_NAMES = {
  burst: 'bursts',
  single: 'single events',
  busy: 'the busiest 10% of seconds',
  rest: 'the other seconds',
} as const;

function figures(values: Float64Array, times: Float64Array): StateFigures {
  const blocks = receiveTimeBlocks(times);
  const sorted = sortValues(values.slice());
  const pick = (ci: BlockInterval | null) => (ci === null ? null : { low: ci.low, high: ci.high });
  const quantile = (p: number): number | null => {
    if (sorted.length === 0) return null;
    const h = (sorted.length - 1) * p;
    const lo = Math.floor(h);
    const a = sorted[lo] as number;
    return lo >= sorted.length - 1 ? a : a + (h - lo) * ((sorted[lo + 1] as number) - a);
  };
  return {
    median_ms: quantile(0.5),
    median_ci_ms: pick(blockQuantileCI(sorted, values, blocks, 0.5)),
    p99_ms: quantile(0.99),
    p99_ci_ms: pick(blockQuantileCI(sorted, values, blocks, 0.99)),
  };
}

/**
 * Each path's latency and the paired delta in each market state, over the matched events: the
 * state of an event is its row's in the market's source path (`state`), the baseline's latency is
 * its row's, the backbone's is the baseline's plus the delta (same E, same receiver clock).
 */
export function latencyByMarketState(
  baseline: PathKeys,
  backbone: PathKeys,
  state: { source: PathName; rowState: Uint8Array },
): LatencyByMarketState | null {
  const latency = baseline.latencyMs;
  const capacity = Math.min(baseline.seq.length, backbone.seq.length);
  const times = new Float64Array(capacity);
  const deltas = new Float64Array(capacity);
  const baseLatency = new Float64Array(capacity);
  const bits = new Uint8Array(capacity);
  let n = 0;
  forEachMatch(baseline, backbone, (rowA, rowB) => {
    const a = baseline.arrivalNs[rowA] as number;
    const b = backbone.arrivalNs[rowB] as number;
    if (a !== a || b !== b) return;
    times[n] = a;
    deltas[n] = (b - a) / 1e6;
    baseLatency[n] = latency === null ? NaN : (latency[rowA] as number);
    bits[n] = state.rowState[state.source === 'baseline' ? rowA : rowB] as number;
    n++;
  });
  if (n === 0) return null;
  const select = (name: MarketStateRow['state'], test: (b: number) => boolean): MarketStateRow | null => {
    let m = 0;
    for (let i = 0; i < n; i++) if (test(bits[i] as number)) m++;
    if (m === 0) return null;
    const t = new Float64Array(m);
    const d = new Float64Array(m);
    let withLatency = 0;
    for (let i = 0, j = 0; i < n; i++) {
      if (!test(bits[i] as number)) continue;
      t[j] = times[i] as number;
      d[j] = deltas[i] as number;
      if ((baseLatency[i] as number) === (baseLatency[i] as number)) withLatency++;
      j++;
    }
    // One-way latencies over the events that have one (bookTicker has no E).
    const lt = new Float64Array(withLatency);
    const la = new Float64Array(withLatency);
    const lb = new Float64Array(withLatency);
    for (let i = 0, j = 0; i < n; i++) {
      const l = baseLatency[i] as number;
      if (!test(bits[i] as number) || l !== l) continue;
      lt[j] = times[i] as number;
      la[j] = l;
      lb[j] = l + (deltas[i] as number);
      j++;
    }
    let first = Infinity;
    let last = -Infinity;
    for (const x of t) {
      if (x < first) first = x;
      if (x > last) last = x;
    }
    return {
      state: name,
      events: m,
      share: m / n,
      evidence: assessEvidence(m, (last - first) / 1e9),
      baseline: figures(la, lt),
      backbone: figures(lb, lt),
      delta: figures(d, t),
    };
  };
  const rows: MarketStateRow[] = [];
  const add = (name: MarketStateRow['state'], test: (b: number) => boolean): MarketStateRow | null => {
    const row = select(name, test);
    if (row !== null) rows.push(row);
    return row;
  };
  const burst = add('burst', (b) => (b & IN_BURST) !== 0);
  const single = add('single', (b) => (b & IN_BURST) === 0);
  const busy = add('busy', (b) => (b & IN_BUSY_SECOND) !== 0);
  const rest = add('rest', (b) => (b & IN_BUSY_SECOND) === 0);
  const changes: LatencyByMarketState['changes'] = [];
  if (apart(burst, single)) changes.push({ split: 'bursts', state: 'burst', other: 'single' });
  if (apart(busy, rest)) changes.push({ split: 'busy seconds', state: 'busy', other: 'rest' });
  return { states: rows, changes, rule: MARKET_STATE_RULE, interval: INTERVAL_METHOD };
}

/** Both states rest on enough data and their median deltas' intervals do not overlap. */
function apart(a: MarketStateRow | null, b: MarketStateRow | null): boolean {
  if (a === null || b === null || !a.evidence.sufficient || !b.evidence.sufficient) return false;
  const x = a.delta.median_ci_ms;
  const y = b.delta.median_ci_ms;
  if (x === null || y === null) return false;
  return x.high < y.low || y.high < x.low;
}

/** "the backbone's lead grows to 3.20 ms in bursts, from 1.10 ms in single events" for one change. */
function changePhrase(state: MarketStateRow, other: MarketStateRow): string {
  const a = state.delta.median_ms as number;
  const b = other.delta.median_ms as number;
  const where = STATE_NAMES[state.state];
  const elsewhere = STATE_NAMES[other.state];
  const lead = (d: number) => ms(Math.abs(d));
  if (a < 0 && b < 0)
    return `the backbone’s lead ${-a > -b ? 'grows' : 'shrinks'} to ${lead(a)} ms in ${where}, from ${lead(b)} ms in ${elsewhere}`;
  if (a > 0 && b > 0)
    return `the baseline’s lead ${a > b ? 'grows' : 'shrinks'} to ${lead(a)} ms in ${where}, from ${lead(b)} ms in ${elsewhere}`;
  const side = (d: number) =>
    d < 0
      ? `the backbone leads by ${lead(d)} ms`
      : d > 0
        ? `the baseline leads by ${lead(d)} ms`
        : 'the paths tie';
  return `in ${where} ${side(a)}, in ${elsewhere} ${side(b)}`;
}

/**
 * The verdict's clause when the backbone's advantage changes with the market state
 * ({@link MARKET_STATE_RULE}), else null.
 */
export function marketStateClause(report: { market?: MarketContext | null }): string | null {
  const byState = report.market?.by_state;
  if (byState === null || byState === undefined || byState.changes.length === 0) return null;
  const phrases = byState.changes.flatMap((change) => {
    const state = byState.states.find((s) => s.state === change.state);
    const other = byState.states.find((s) => s.state === change.other);
    return state && other && state.delta.median_ms !== null && other.delta.median_ms !== null
      ? [changePhrase(state, other)]
      : [];
  });
  return phrases.length === 0 ? null : `${phrases.join('; ')} (median deltas, their 95% intervals apart)`;
}
