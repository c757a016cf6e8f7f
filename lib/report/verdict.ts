/**
 * The verdict: one sentence a trader can act on, from the paired delta when there is one (one host
 * clock, no synchronisation error), else from the one-way latencies with their clock error bounds.
 */
import type { PathName } from '../samples';
import { ms, msDigits, percent } from './format';
import type { Report } from './model';

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

function lossClause(report: Omit<Report, 'verdict'>): string | null {
  const parts: string[] = [];
  for (const path of ['baseline', 'backbone'] as PathName[]) {
    const lost = report.summaries[path]?.events_lost;
    if (lost !== null && lost !== undefined && lost > 0) parts.push(`${lost} on ${path}`);
  }
  return parts.length === 0 ? null : `events lost: ${parts.join(', ')}`;
}

function oneWaySentence(report: Omit<Report, 'verdict'>): string | null {
  const a = report.summaries.baseline?.median_latency_ms;
  const b = report.summaries.backbone?.median_latency_ms;
  const parts: string[] = [];
  if (a !== null && a !== undefined) parts.push(`baseline ${ms(a)} ms`);
  if (b !== null && b !== undefined) parts.push(`backbone ${ms(b)} ms`);
  if (parts.length === 0) return null;
  return `One-way median latency (exchange → receiver): ${parts.join(', ')} (${clockClause(report, ['receiver'])}).`;
}

/** The verdict for a report (everything but the verdict itself). */
export function verdictSentence(report: Omit<Report, 'verdict'>): string {
  const paired = report.paired;
  const delta = paired?.delta_ms;
  if (report.comparison === 'paired' && paired && delta) {
    const ci = paired.median_delta_ci_ms;
    // The median and its interval with the same decimals, so they read as one statement.
    const digits = msDigits(delta.median, ci?.low, ci?.high);
    const interval = ci === null ? '' : ` (95% CI ${ms(ci.low, { digits })} … ${ms(ci.high, { digits })} ms)`;
    let lead: string;
    if (paired.significant === false) {
      lead = `No significant difference between the paths: backbone delivered ${percent(paired.backbone_first_share)} of ${paired.matched.toLocaleString('en-US')} matched events first; median delta (backbone − baseline) ${ms(delta.median, { sign: true, digits })} ms${interval}, an interval that spans 0`;
    } else {
      const faster = delta.median < 0 ? 'Backbone' : 'Baseline';
      lead = `${faster} was faster: backbone delivered ${percent(paired.backbone_first_share)} of ${paired.matched.toLocaleString('en-US')} matched events first; median delta (backbone − baseline) ${ms(delta.median, { sign: true, digits })} ms${interval}`;
    }
    const clauses = [lead, jitterClause(report), lossClause(report)].filter((c): c is string => c !== null);
    const oneWay = oneWaySentence(report);
    return `${clauses.join('; ')}.${oneWay === null ? '' : ` ${oneWay}`}`;
  }
  const a = report.summaries.baseline;
  const b = report.summaries.backbone;
  if (a && b && a.median_latency_ms !== null && b.median_latency_ms !== null) {
    const d = b.median_latency_ms - a.median_latency_ms;
    const lower = d < 0 ? 'Backbone' : 'Baseline';
    const clauses = [
      `${lower} had the lower median one-way latency: backbone ${ms(b.median_latency_ms)} ms vs baseline ${ms(a.median_latency_ms)} ms (${ms(d, { sign: true })} ms); no event was seen on both paths, so this compares one-way latencies across clocks (${clockClause(report, ['receiver', 'forwarder'])}) and is not a paired measurement`,
      jitterClause(report),
      lossClause(report),
    ].filter((c): c is string => c !== null);
    return `${clauses.join('; ')}.`;
  }
  const only = a ?? b;
  const path = a ? 'baseline' : 'backbone';
  if (only && only.median_latency_ms !== null) {
    const clauses = [
      `Only the ${path} path was measured: median one-way latency ${ms(only.median_latency_ms)} ms, p99 ${ms(only.p99_latency_ms)} ms, jitter ${ms(only.jitter_stddev_ms)} ms (${clockClause(report, path === 'baseline' ? ['receiver'] : ['receiver', 'forwarder'])})`,
      lossClause(report),
    ].filter((c): c is string => c !== null);
    return `${clauses.join('; ')}.`;
  }
  if (only) {
    return `Only the ${path} path was measured (${only.sample_count.toLocaleString('en-US')} events, none with an exchange event time: no one-way latency).`;
  }
  return 'No path could be analysed.';
}
