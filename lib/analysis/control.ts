/**
 * The A/A control: the receiver's second direct connection to the exchange (`control-results.csv`,
 * the baseline's format) paired with its first, event by event, as the paired analysis pairs the
 * backbone with the baseline. Both connections take the same path, so their delta
 * (control − baseline) is what the method measures when there is nothing to find: two TCP
 * connections, possibly to different exchange gateways, read by one process on one clock. The
 * A/B delta is only a finding beyond that noise.
 */
import { ErrorCode, isFeedpathError } from '../errors';
import { percentileSorted, type BlockInterval, type Distribution } from '../stats';
import { resultsCsvName } from '../samples';
import type { ResultsStore } from '../store';
import type { ArrivalEpoch } from './path-columns';
import { dataErrorWarnings } from './data-errors';
import type { Evidence } from './evidence';
import { pairPaths } from './paired';
import { analyzePath, type PathAnalysis } from './path';
import { readResults, type SummaryOptions } from './read';

export interface ControlAnalysis {
  /** Where the control's rows came from. */
  file: string;
  rows: number;
  /** Rows in no statistic (lib/analysis/data-errors.ts). */
  data_errors: number;
  /** Events seen on both direct connections. */
  matched: number;
  baseline_only: number;
  control_only: number;
  /** control − baseline arrival per matched event, ms (negative: the control connection first). */
  delta_ms: Distribution | null;
  /** The delta's 1st and 99th percentiles, ms: the spread of single events. */
  delta_p1_ms: number | null;
  delta_p99_ms: number | null;
  control_first_share: number | null;
  baseline_first_share: number | null;
  /** 95% interval of the median delta over blocks of receive time: the A/B delta's method. */
  median_delta_ci_ms: BlockInterval | null;
  /**
   * The method's own noise, ms: the largest |value| in that interval, the widest systematic offset
   * between two connections of one path the data allow. Null without an interval or below the
   * evidence minimum (then nothing is downgraded by it).
   */
  noise_ms: number | null;
  evidence: Evidence;
}

/**
 * Reads `control-results.csv` under `base` and pairs it with the baseline; null when the run has no
 * control file. Problems with the file are warnings (the A/B analysis stands without it).
 */
export async function analyzeControl(
  store: ResultsStore,
  base: string,
  baseline: PathAnalysis | null,
  options: SummaryOptions & { epoch: ArrivalEpoch },
  warnings: string[],
): Promise<ControlAnalysis | null> {
  const key = `${base}${resultsCsvName('control')}`;
  const file = store.describe(key);
  let control: PathAnalysis;
  try {
    // The market is the baseline's: the control's copy of it is not read.
    const columns = await readResults(store, key, { ...options, market: false });
    if (columns === null) return null;
    // A second direct connection is a baseline by construction: the same columns, the same checks.
    control = analyzePath('baseline', columns, { runDurationMs: options.runDurationMs });
  } catch (error) {
    if (!isFeedpathError(error) || error.code !== ErrorCode.badResults) throw error;
    warnings.push(`${file} could not be read (${(error as Error).message}): no A/A control`);
    return null;
  }
  warnings.push(...dataErrorWarnings(file, control.quality.data_errors));
  if (baseline === null) {
    warnings.push(`${file} has no baseline to be paired with: no A/A control`);
    return null;
  }
  const { analysis, sortedDeltaNs } = pairPaths(baseline.keys, control.keys);
  const ci = analysis.median_delta_ci_ms;
  const usable = ci !== null && analysis.evidence.sufficient;
  return {
    file,
    rows: control.quality.rows,
    data_errors: control.summary.data_errors,
    matched: analysis.matched,
    baseline_only: analysis.baseline_only,
    control_only: analysis.backbone_only,
    delta_ms: analysis.delta_ms,
    delta_p1_ms:
      sortedDeltaNs === null || sortedDeltaNs.length === 0 ? null : percentileSorted(sortedDeltaNs, 1) / 1e6,
    delta_p99_ms: analysis.delta_ms?.p99 ?? null,
    control_first_share: analysis.backbone_first_share,
    baseline_first_share: analysis.baseline_first_share,
    median_delta_ci_ms: ci,
    noise_ms: usable ? Math.max(Math.abs(ci.low), Math.abs(ci.high)) : null,
    evidence: analysis.evidence,
  };
}
