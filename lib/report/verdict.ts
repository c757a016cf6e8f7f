/**
 * The verdict: one sentence a trader can act on, from the paired delta when there is one (one host
 * clock, no synchronisation error), else from the one-way latencies with their clock error bounds.
 */
import type { Evidence } from '../analysis/evidence';
import type { PathName } from '../samples';
import { ms, msDigits, percent } from './format';
import { regimeChangeClause } from './connections';
import { marketStateClause } from '../analysis/market-state';
import { withLabClause } from './lab';
import type { HostName, Report } from './model';

function clockClause(report: Omit<Report, 'verdict'>, hosts: readonly ('receiver' | 'forwarder')[]): string {
  const parts = hosts.map((host) => {
    const bound = report.clock[host].error_bound_ms;
    return `${host} ${bound === null ? 'unknown' : `±${ms(bound)} ms`}`;
  });
  return `clock error bound: ${parts.join(', ')}`;
}

function jitterClause(report: Omit<Report, 'verdict'>): string | null {
  const a = report.summaries.baseline?.jitter_stddev_ms;
  const b = report.summaries.backbone?.jitter_stddev_ms;
  if (a === null || a === undefined || b === null || b === undefined) return null;
  const digits = msDigits(a, b);
  const word =
    ms(a, { digits }) === ms(b, { digits }) ? 'the same jitter' : b < a ? 'lower jitter' : 'higher jitter';
  return `${word} on the backbone (${ms(b, { digits })} vs ${ms(a, { digits })} ms)`;
}

/** Who lost what, naming a lost tail: "backbone lost 1,317 events (the last 23 s)". */
function lossClause(report: Omit<Report, 'verdict'>): string | null {
  const parts: string[] = [];
  for (const path of ['baseline', 'backbone'] as PathName[]) {
    const lost = report.summaries[path]?.events_lost;
    if (lost === null || lost === undefined || lost <= 0) continue;
    const events = `${lost.toLocaleString('en-US')} event${lost === 1 ? '' : 's'}`;
    const tail = report.summaries[path]?.events_lost_tail ?? 0;
    const silent = report.loss[path]?.silent_before_end_s ?? null;
    const last = silent === null ? '' : `the last ${silent.toFixed(silent < 10 ? 1 : 0)} s`;
    const when =
      tail <= 0 || last === ''
        ? ''
        : tail === lost
          ? ` (${last})`
          : ` (${tail.toLocaleString('en-US')} in ${last})`;
    parts.push(`${path} lost ${events}${when}`);
  }
  return parts.length === 0 ? null : parts.join(', ');
}

function oneWaySentence(report: Omit<Report, 'verdict'>): string | null {
  const a = report.summaries.baseline?.median_latency_ms;
  const b = report.summaries.backbone?.median_latency_ms;
  const parts: string[] = [];
  if (a !== null && a !== undefined) parts.push(`baseline ${ms(a)} ms`);
  if (b !== null && b !== undefined) parts.push(`backbone ${ms(b)} ms`);
  if (parts.length === 0) return null;
  // The backbone's legs are split at the forwarder's clock, so its bound belongs here too.
  const hosts: HostName[] = report.summaries.backbone ? ['receiver', 'forwarder'] : ['receiver'];
  return `One-way median latency (exchange → receiver): ${parts.join(', ')} (${clockClause(report, hosts)}).`;
}

const STATUS_LEAD = {
  degraded: 'Degraded run',
  failed: 'Failed run',
  interrupted: 'Interrupted run',
} as const;

/** "Degraded run: link exchange-receiver killed by SIGKILL at 12.3 s." — null for a run that succeeded. */
function statusLead(report: Pick<Report, 'run_status'>): string | null {
  const run = report.run_status;
  if (run.status === 'succeeded') return null;
  const details = run.causes.map((c) => c.detail).filter((d) => d !== '');
  return `${STATUS_LEAD[run.status]}: ${details.length === 0 ? 'no cause was recorded' : details.join('; ')}.`;
}

/** The verdict for a report (everything but the verdict itself); it starts with the run's status unless it succeeded. */
export function verdictSentence(report: Omit<Report, 'verdict'>): string {
  const lead = statusLead(report);
  const regime = regimeChangeClause(report);
  const comparison = comparisonSentence(report);
  const market = marketStateClause(report);
  const notes = [regime, market === null ? null : `with the market, ${market}`].filter((n) => n !== null);
  const body = withLabClause(
    notes.length === 0 ? comparison : `${comparison} Note: ${notes.join('; ')}.`,
    report,
  );
  return lead === null ? body : `${lead} ${body}`;
}

/** Whether the report's headline figures rest on enough data (the paired delta, else every one-way path). */
export function hasEvidence(report: Pick<Report, 'comparison' | 'paired' | 'one_way_evidence'>): boolean {
  if (report.comparison === 'paired') return report.paired?.evidence?.sufficient !== false;
  return Object.values(report.one_way_evidence).every((e) => e === null || e.sufficient);
}

/** The clauses that apply, joined into one sentence. */
function sentence(clauses: readonly (string | null)[]): string {
  return `${clauses.filter((c): c is string => c !== null).join('; ')}.`;
}

/** Whether the evidence is below the minimum (lib/analysis/evidence.ts); absent evidence is not. */
function isShort(evidence: Evidence | null | undefined): boolean {
  return evidence?.sufficient === false;
}

/** "Not enough data …" for evidence below the minimum, with its reason. */
function notEnough(evidence: Evidence | null | undefined, what: string): string {
  return `Not enough data ${what}: ${evidence?.reason ?? 'below the minimum'}; no direction is claimed`;
}

/** "below the practical threshold of 1.17 ms (1.0% of the baseline's 117.2 ms median)". */
function thresholdPhrase(report: Omit<Report, 'verdict'>): string {
  const p = report.practical;
  const whose =
    report.summaries.baseline?.median_latency_ms === p.reference_median_ms ? 'baseline' : 'backbone';
  const basis =
    p.basis === 'share of the median' && p.reference_median_ms !== null
      ? ` (${percent(p.min_difference_share)} of the ${whose}’s ${ms(p.reference_median_ms)} ms median)`
      : '';
  return `below the practical threshold of ${ms(p.threshold_ms)} ms${basis}`;
}

/**
 * Why a real difference (its interval excludes 0) is still no practical difference: within the A/A
 * control's noise, below the threshold, or both; empty when neither holds.
 */
function noPracticalDifference(report: Omit<Report, 'verdict'>): string[] {
  const p = report.practical;
  const reasons: string[] = [];
  if (p.within_control_noise === true && p.control_noise_ms !== null)
    reasons.push(
      `within the method’s own noise (the A/A control, two direct connections, differed by up to ${ms(p.control_noise_ms)} ms)`,
    );
  if (p.below_threshold === true) reasons.push(thresholdPhrase(report));
  return reasons;
}

/**
 * The verdict's answer as a word, for tables that compare runs (the multi-receiver matrix); the
 * verdict's sentence says the same answer in words.
 */
export type Judgement =
  | 'backbone faster'
  | 'baseline faster'
  | 'no practical difference'
  | 'no significant difference'
  | 'not enough data'
  | 'one path only'
  | 'no latency';

type Paired = NonNullable<Report['paired']>;
type Summary = NonNullable<Report['summaries'][PathName]>;

/**
 * What a report's paths allow comparing: their paired events (one clock), else both paths' one-way
 * medians (across clocks), else one path's figures. Decided once, for the answer and its words.
 */
type Basis =
  | { by: 'paired'; paired: Paired; delta: NonNullable<Paired['delta_ms']> }
  | { by: 'one-way'; baseline: Summary; backbone: Summary; baselineMs: number; backboneMs: number }
  | { by: 'one path'; path: PathName; only: Summary | null };

function basisOf(report: Omit<Report, 'verdict'>): Basis {
  const paired = report.paired;
  const delta = paired?.delta_ms;
  if (report.comparison === 'paired' && paired && delta) return { by: 'paired', paired, delta };
  const a = report.summaries.baseline;
  const b = report.summaries.backbone;
  if (a && b && a.median_latency_ms !== null && b.median_latency_ms !== null)
    return {
      by: 'one-way',
      baseline: a,
      backbone: b,
      baselineMs: a.median_latency_ms,
      backboneMs: b.median_latency_ms,
    };
  return { by: 'one path', path: a ? 'baseline' : 'backbone', only: a ?? b ?? null };
}

function judge(report: Omit<Report, 'verdict'>, basis: Basis): Judgement {
  switch (basis.by) {
    case 'paired':
      if (isShort(basis.paired.evidence)) return 'not enough data';
      if (basis.paired.significant === false) return 'no significant difference';
      if (noPracticalDifference(report).length > 0) return 'no practical difference';
      return basis.delta.median < 0 ? 'backbone faster' : 'baseline faster';
    case 'one-way':
      if (isShort(report.one_way_evidence.baseline) || isShort(report.one_way_evidence.backbone))
        return 'not enough data';
      if (report.practical.below_threshold === true) return 'no practical difference';
      return basis.backboneMs - basis.baselineMs < 0 ? 'backbone faster' : 'baseline faster';
    case 'one path':
      return basis.only !== null && basis.only.median_latency_ms !== null ? 'one path only' : 'no latency';
  }
}

/** The verdict's answer for a report (everything but the verdict itself). */
export function judgement(report: Omit<Report, 'verdict'>): Judgement {
  return judge(report, basisOf(report));
}

/** The verdict's comparison: the answer {@link judgement} gives, in words. */
function comparisonSentence(report: Omit<Report, 'verdict'>): string {
  const basis = basisOf(report);
  const answer = judge(report, basis);
  switch (basis.by) {
    case 'paired':
      return pairedWords(report, basis, answer);
    case 'one-way':
      return oneWayWords(report, basis, answer);
    case 'one path':
      return onePathWords(report, basis);
  }
}

function pairedWords(
  report: Omit<Report, 'verdict'>,
  { paired, delta }: Extract<Basis, { by: 'paired' }>,
  answer: Judgement,
): string {
  if (answer === 'not enough data') {
    const digits = msDigits(delta.median);
    return sentence([
      `${notEnough(paired.evidence, 'to compare the paths')} (median delta backbone − baseline ${ms(delta.median, { sign: true, digits })} ms over ${paired.matched.toLocaleString('en-US')} matched events)`,
      lossClause(report),
    ]);
  }
  const ci = paired.median_delta_ci_ms;
  // The median and its interval with the same decimals, so they read as one statement.
  const digits = msDigits(delta.median, ci?.low, ci?.high);
  const interval = ci === null ? '' : ` (95% CI ${ms(ci.low, { digits })} … ${ms(ci.high, { digits })} ms)`;
  const first = `backbone delivered ${percent(paired.backbone_first_share)} of ${paired.matched.toLocaleString('en-US')} matched events first`;
  const median = `median delta (backbone − baseline) ${ms(delta.median, { sign: true, digits })} ms${interval}`;
  let lead: string;
  if (answer === 'no significant difference') {
    lead = `No significant difference between the paths: ${first}; ${median}, an interval that spans 0`;
  } else if (answer === 'no practical difference') {
    lead = `No practical difference between the paths: ${median} is ${noPracticalDifference(report).join(' and ')}; ${first}`;
  } else {
    const faster = answer === 'backbone faster' ? 'Backbone' : 'Baseline';
    const noise = report.practical.control_noise_ms;
    const beyond = noise === null ? '' : `, beyond the A/A control’s noise of ${ms(noise)} ms`;
    lead = `${faster} was faster: ${first}; ${median}${beyond}`;
  }
  const oneWay = oneWaySentence(report);
  return `${sentence([lead, jitterClause(report), lossClause(report)])}${oneWay === null ? '' : ` ${oneWay}`}`;
}

function oneWayWords(
  report: Omit<Report, 'verdict'>,
  { baselineMs, backboneMs }: Extract<Basis, { by: 'one-way' }>,
  answer: Judgement,
): string {
  if (answer === 'not enough data') {
    const { baseline, backbone } = report.one_way_evidence;
    const short = isShort(baseline)
      ? notEnough(baseline, 'on baseline to compare one-way latencies')
      : notEnough(backbone, 'on backbone to compare one-way latencies');
    return sentence([
      `${short} (median one-way latency backbone ${ms(backboneMs)} ms, baseline ${ms(baselineMs)} ms; no event was seen on both paths)`,
      lossClause(report),
    ]);
  }
  const d = backboneMs - baselineMs;
  const medians = `backbone ${ms(backboneMs)} ms vs baseline ${ms(baselineMs)} ms (${ms(d, { sign: true })} ms)`;
  const lead =
    answer === 'no practical difference'
      ? `No practical difference in median one-way latency: ${medians}, ${thresholdPhrase(report)}`
      : `${answer === 'backbone faster' ? 'Backbone' : 'Baseline'} had the lower median one-way latency: ${medians}`;
  return sentence([
    `${lead}; no event was seen on both paths, so this compares one-way latencies across clocks (${clockClause(report, ['receiver', 'forwarder'])}) and is not a paired measurement`,
    jitterClause(report),
    lossClause(report),
  ]);
}

function onePathWords(
  report: Omit<Report, 'verdict'>,
  { path, only }: Extract<Basis, { by: 'one path' }>,
): string {
  if (only !== null && only.median_latency_ms !== null) {
    // One path compares nothing: its figures stand, with a word when they rest on little data.
    const evidence = report.one_way_evidence[path];
    return sentence([
      `Only the ${path} path was measured: median one-way latency ${ms(only.median_latency_ms)} ms, p99 ${ms(only.p99_latency_ms)} ms, jitter ${ms(only.jitter_stddev_ms)} ms (${clockClause(report, path === 'baseline' ? ['receiver'] : ['receiver', 'forwarder'])})`,
      lossClause(report),
      evidence && !evidence.sufficient ? `not enough data for firm figures: ${evidence.reason}` : null,
    ]);
  }
  if (only !== null) {
    return `Only the ${path} path was measured (${only.sample_count.toLocaleString('en-US')} events, none with an exchange event time: no one-way latency).`;
  }
  return 'No path could be analysed.';
}
