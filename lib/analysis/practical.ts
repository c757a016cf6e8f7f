/**
 * Practical significance: the smallest difference between the paths the verdict calls a difference.
 *
 * An interval that excludes 0 says a difference is real, not that it matters: a 0.26 ms lead on a
 * 117 ms route is real after an hour of data and still changes nothing a desk would do. The
 * threshold is the larger of an absolute figure and a share of the baseline's median one-way
 * latency, so one default fits a 2 ms metro link and a 117 ms intercontinental route alike.
 *
 * Defaults (README "Practical significance" has the figures): 1 ms, the resolution of the seed
 * experiment's own timestamps (binance_time, Date.now()) and above what this machine's lab adds to a
 * paired delta by itself (0.35–0.5 ms, `npm run bench -- truth`); and 1% of the median, 1.17 ms
 * on the 117 ms Tokyo→Frankfurt route, where sub-millisecond leads are smaller than the gap two
 * connections of the same path can show (the A/A control, lib/analysis/control.ts).
 */
import { z } from 'zod';

export const DEFAULT_MIN_DIFFERENCE_MS = 1;
export const DEFAULT_MIN_DIFFERENCE_SHARE = 0.01;

/** The two settings as a run's input takes them (`feedpath run`, the workflow input, input.json). */
export const practicalInputFields = {
  /** Differences below this many ms are "no practical difference" (default 1). */
  minDifferenceMs: z.number().min(0).max(60_000).optional(),
  /** … or below this share of the baseline's median one-way latency, whichever is larger (default 0.01). */
  minDifferenceShare: z.number().min(0).max(1).optional(),
};
export type PracticalInput = z.infer<z.ZodObject<typeof practicalInputFields>>;

/** Where a setting came from: the analysis's own default, the run's input.json, or an option given to the analysis. */
export type SettingSource = 'default' | 'input.json' | 'option';

export interface PracticalSettings {
  min_difference_ms: number;
  min_difference_share: number;
  source: { min_difference_ms: SettingSource; min_difference_share: SettingSource };
}

export const PRACTICAL_RULE =
  'A difference is practical when |median delta| ≥ max(min_difference_ms, min_difference_share × the baseline’s median one-way latency); without a one-way median, min_difference_ms alone. It is within the method’s own noise when |median delta| ≤ the A/A control’s noise (the largest |value| in the 95% interval of the control − baseline median delta). Either downgrades the verdict to “no practical difference”.';

export interface PracticalSignificance extends PracticalSettings {
  /** The median the share is taken of: the baseline's one-way median (else the backbone's), ms. */
  reference_median_ms: number | null;
  /** The smallest |difference| called practical, ms. */
  threshold_ms: number;
  basis: 'absolute' | 'share of the median';
  /** The difference judged: the paired median delta, else the one-way medians' (backbone − baseline), ms. */
  difference_ms: number | null;
  /** |difference| < threshold (null without a difference). */
  below_threshold: boolean | null;
  /** The A/A control's noise, ms (null without a usable control). */
  control_noise_ms: number | null;
  /** |difference| ≤ the control's noise (null without both). */
  within_control_noise: boolean | null;
  rule: string;
}

/**
 * The settings for one analysis: `given` (options of `feedpath analyze`) over the run's input.json
 * over the defaults. An input.json value that does not fit the schema is a warning and the default.
 */
export function practicalSettings(
  input: Record<string, unknown> | null,
  given: PracticalInput = {},
  warnings: string[] = [],
): PracticalSettings {
  const fromInput: PracticalInput = {};
  for (const key of ['minDifferenceMs', 'minDifferenceShare'] as const) {
    if (input?.[key] === undefined) continue;
    const checked = practicalInputFields[key].safeParse(input[key]);
    if (checked.success) fromInput[key] = checked.data;
    else warnings.push(`input.json ${key} ${JSON.stringify(input[key])} is not valid: the default is used`);
  }
  const pick = (key: keyof PracticalInput, fallback: number): [number, SettingSource] =>
    given[key] !== undefined
      ? [given[key], 'option']
      : fromInput[key] !== undefined
        ? [fromInput[key], 'input.json']
        : [fallback, 'default'];
  const [ms, msSource] = pick('minDifferenceMs', DEFAULT_MIN_DIFFERENCE_MS);
  const [share, shareSource] = pick('minDifferenceShare', DEFAULT_MIN_DIFFERENCE_SHARE);
  return {
    min_difference_ms: ms,
    min_difference_share: share,
    source: { min_difference_ms: msSource, min_difference_share: shareSource },
  };
}

/** Judges a difference against the settings and, when there is one, the A/A control's noise. */
export function assessPractical(
  settings: PracticalSettings,
  referenceMedianMs: number | null,
  differenceMs: number | null,
  controlNoiseMs: number | null,
): PracticalSignificance {
  const reference =
    referenceMedianMs !== null && Number.isFinite(referenceMedianMs) ? referenceMedianMs : null;
  const byShare = reference === null ? 0 : settings.min_difference_share * Math.abs(reference);
  const threshold = Math.max(settings.min_difference_ms, byShare);
  const difference = differenceMs !== null && Number.isFinite(differenceMs) ? differenceMs : null;
  return {
    ...settings,
    reference_median_ms: reference,
    threshold_ms: threshold,
    basis: byShare > settings.min_difference_ms ? 'share of the median' : 'absolute',
    difference_ms: difference,
    below_threshold: difference === null ? null : Math.abs(difference) < threshold,
    control_noise_ms: controlNoiseMs,
    within_control_noise:
      difference === null || controlNoiseMs === null ? null : Math.abs(difference) <= controlNoiseMs,
    rule: PRACTICAL_RULE,
  };
}
