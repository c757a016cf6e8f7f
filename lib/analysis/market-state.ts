/**
 * The latency by market state: each path's and the paired delta's median and p99 in bursts vs
 * single events and in the busiest 10% of seconds vs the rest (the states are defined in market.ts),
 * and the verdict's clause when the backbone's advantage changes with them.
 */
import type { MatchedRows } from './paired';
import type { PathKeys } from './path';
import { assessEvidence } from './evidence';
import type { PathName } from '../samples';
import {
  blockOf,
  blockQuantileCIOfRuns,
  INTERVAL_METHOD,
  percentileOfRuns,
  sortValues,
  timeBlockRule,
  type BlockInterval,
  type TimeBlockRule,
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

/** Where an event is not in the state (or has no latency) in a block column. */
const OUT = 255;

/**
 * Each path's latency and the paired delta in each market state, over the matched events: the
 * state of an event is its row's in the market's source path (`state`), the baseline's latency is
 * its row's, the backbone's is the baseline's plus the delta (same E, same receiver clock).
 *
 * Memory and time: a state's values are laid out block of receive time after block, each block
 * sorted in place (lib/stats/sorted-runs.ts), in one buffer reused for every state and series;
 * values are integer ns (exact, sorted by the integer sorts), ms in the figures. Each state costs
 * five plain passes over the matched events and one sort per series.
 */
export function latencyByMarketState(
  baseline: PathKeys,
  backbone: PathKeys,
  rows: MatchedRows,
  state: { source: PathName; rowState: Uint8Array },
): LatencyByMarketState | null {
  const n = rows.count;
  if (n === 0) return null;
  const rowA = rows.baseline;
  const rowB = rows.backbone;
  const latency = baseline.latencyMs ?? new Float64Array(0);
  const timeA = baseline.arrivalNs;
  const timeB = backbone.arrivalNs;
  const stateRows = state.source === 'baseline' ? rowA : rowB;
  const rowState = state.rowState;
  const hasLatency = (i: number): boolean => {
    const l = latency[rowA[i] as number];
    return l !== undefined && l === l;
  };
  const buffer = new Float64Array(n);
  // Per event its block of receive time in the state (OUT: not in it), for the delta and for the
  // one-way latencies (those events with a latency; their span may be shorter).
  const blockAll = new Uint8Array(n);
  const blockTimed = new Uint8Array(n);

  /** The block layout of a column: where each block starts in the buffer (blocks + 1 offsets). */
  const layout = (column: Uint8Array, blocks: number): Float64Array => {
    const start = new Float64Array(blocks + 1);
    for (let i = 0; i < n; i++) {
      const b = column[i] as number;
      if (b !== OUT) start[b + 1] = (start[b + 1] as number) + 1;
    }
    for (let b = 0; b < blocks; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
    return start;
  };
  /** Sorts each block's values in the buffer and reads the figures (ns in, ms out). */
  const figures = (start: Float64Array, rule: TimeBlockRule | null): StateFigures => {
    const blocks = start.length - 1;
    if (start[blocks] === 0) return { median_ms: null, median_ci_ms: null, p99_ms: null, p99_ci_ms: null };
    const runs: Float64Array[] = [];
    for (let b = 0; b < blocks; b++)
      runs.push(sortValues(buffer.subarray(start[b] as number, start[b + 1] as number)));
    const inMs = (ci: BlockInterval | null) =>
      ci === null ? null : { low: ci.low / 1e6, high: ci.high / 1e6 };
    return {
      median_ms: percentileOfRuns(runs, 50) / 1e6,
      median_ci_ms: rule === null ? null : inMs(blockQuantileCIOfRuns(runs, rule.blockNs, 0.5)),
      p99_ms: percentileOfRuns(runs, 99) / 1e6,
      p99_ci_ms: rule === null ? null : inMs(blockQuantileCIOfRuns(runs, rule.blockNs, 0.99)),
    };
  };

  /** The state of the events whose state bits under `mask` equal `want`. */
  const select = (name: MarketStateRow['state'], mask: number, want: number): MarketStateRow | null => {
    // Pass 1: the state's events and their span of receive time, all and those with a latency.
    let m = 0;
    let timed = 0;
    let first = Infinity;
    let last = -Infinity;
    let firstTimed = Infinity;
    let lastTimed = -Infinity;
    for (let i = 0; i < n; i++) {
      if (((rowState[stateRows[i] as number] as number) & mask) !== want) continue;
      m++;
      const t = timeA[rowA[i] as number] as number;
      if (t < first) first = t;
      if (t > last) last = t;
      if (hasLatency(i)) {
        timed++;
        if (t < firstTimed) firstTimed = t;
        if (t > lastTimed) lastTimed = t;
      }
    }
    if (m === 0) return null;
    const all = timeBlockRule(m, first, last);
    const withLatency = timeBlockRule(timed, firstTimed, lastTimed);
    // Pass 2: each event's blocks (one block when the rule has none: a single run, no interval).
    for (let i = 0; i < n; i++) {
      if (((rowState[stateRows[i] as number] as number) & mask) !== want) {
        blockAll[i] = OUT;
        blockTimed[i] = OUT;
        continue;
      }
      const t = timeA[rowA[i] as number] as number;
      blockAll[i] = all === null ? 0 : blockOf(all, t);
      blockTimed[i] = !hasLatency(i) ? OUT : withLatency === null ? 0 : blockOf(withLatency, t);
    }
    const startAll = layout(blockAll, all?.count ?? 1);
    const startTimed = layout(blockTimed, withLatency?.count ?? 1);
    // Passes 3–5: one series at a time into the buffer, block after block.
    const fillSeries = (
      column: Uint8Array,
      start: Float64Array,
      value: (a: number, b: number) => number,
    ): void => {
      const at = start.slice(0, start.length - 1);
      for (let i = 0; i < n; i++) {
        const b = column[i] as number;
        if (b === OUT) continue;
        buffer[at[b] as number] = value(rowA[i] as number, rowB[i] as number);
        at[b] = (at[b] as number) + 1;
      }
    };
    const baselineNs = (a: number): number => Math.round((latency[a] as number) * 1e6);
    fillSeries(blockAll, startAll, (a, b) => (timeB[b] as number) - (timeA[a] as number));
    const delta = figures(startAll, all);
    fillSeries(blockTimed, startTimed, baselineNs);
    const baselineFigures = figures(startTimed, withLatency);
    fillSeries(blockTimed, startTimed, (a, b) => baselineNs(a) + (timeB[b] as number) - (timeA[a] as number));
    return {
      state: name,
      events: m,
      share: m / n,
      evidence: assessEvidence(m, (last - first) / 1e9),
      baseline: baselineFigures,
      backbone: figures(startTimed, withLatency),
      delta,
    };
  };
  const states: MarketStateRow[] = [];
  const add = (name: MarketStateRow['state'], mask: number, want: number): MarketStateRow | null => {
    const row = select(name, mask, want);
    if (row !== null) states.push(row);
    return row;
  };
  const burst = add('burst', IN_BURST, IN_BURST);
  const single = add('single', IN_BURST, 0);
  const busy = add('busy', IN_BUSY_SECOND, IN_BUSY_SECOND);
  const rest = add('rest', IN_BUSY_SECOND, 0);
  const changes: LatencyByMarketState['changes'] = [];
  if (apart(burst, single)) changes.push({ split: 'bursts', state: 'burst', other: 'single' });
  if (apart(busy, rest)) changes.push({ split: 'busy seconds', state: 'busy', other: 'rest' });
  return { states, changes, rule: MARKET_STATE_RULE, interval: INTERVAL_METHOD };
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
