/** The execution input of the AWS workflow: every field optional, `{}` = the reference experiment. */
import { z } from 'zod';
import { BINANCE_WS_BASE, parseStreamList } from '../binance';
import { MODES } from '../experiment';
import { practicalInputFields } from '../analysis/practical';
import { describeIssues } from '../zod-issues';
import { InvalidInputError } from './errors';
import { DEFAULT_DURATION_SECONDS, MAX_DURATION_SECONDS, MIN_DURATION_SECONDS } from './limits';

/** Tokyo forwarder (Binance is in AWS Tokyo), Frankfurt receiver, one trade stream, paired, 5 min. */
export const REFERENCE_EXPERIMENT = {
  durationSeconds: DEFAULT_DURATION_SECONDS,
  streams: ['btcusdt@trade'],
  mode: 'paired',
  forwarderRegion: 'ap-northeast-1',
  receiverRegion: 'eu-central-1',
  instanceType: 'c7i.large',
  label: '',
  exchangeUrl: BINANCE_WS_BASE,
  control: true,
  record: true,
} as const;

const REGION_RE = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
/**
 * At most this many receiver regions per run. The bound is the forwarder's, not AWS's (peerings per
 * VPC and instances per region are far from their default quotas at 5): its one instance sends
 * every event once per receiver over the relay, so its CPU, its outbound bandwidth and the
 * inter-region transfer bill grow with each receiver; 5 covers the usual trading hubs (Frankfurt,
 * London, Virginia, Singapore, Tokyo) and keeps one forwarder's fan-out well within a c7i.large.
 */
export const MAX_RECEIVER_REGIONS = 5;
/** What a failed receiver region does to a multi-receiver run (see `regionFailure`). */
export const REGION_FAILURE = ['fail', 'continue'] as const;
const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
/** An AZ ID such as `apne1-az4` (a subset of what cloudformation/site.json's parameter allows). */
export const AZ_ID_RE = /^[a-z]+[0-9]+-az[0-9]+$/;
/** What an AWS tag value accepts (the label becomes a tag). */
const LABEL_RE = /^[\p{L}\p{N} _.:/=+@-]*$/u;

const streamsSchema = z.union([z.string(), z.array(z.string()).min(1)]).transform((value, ctx) => {
  try {
    return parseStreamList(Array.isArray(value) ? value.join(',') : value).map((s) => s.name);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/**
 * A site's pinned zone: one AZ ID, or several (a list or one comma-separated string), of which each
 * run takes one (lib/cloud/zones.ts `pickZone`): a schedule with a list sweeps the zones.
 */
const azIdsSchema = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((id) => id.trim()))
  .pipe(
    z
      .array(z.string().regex(AZ_ID_RE, 'expected an AZ ID such as apne1-az4 (not a zone name)'))
      .min(1)
      .refine((ids) => new Set(ids).size === ids.length, 'an AZ ID is listed twice'),
  );

const regionSchema = (example: string) =>
  z.string().regex(REGION_RE, `expected an AWS region such as ${example}`);

/** The validated experiment (what a RunPlan carries); parsing it again is idempotent. */
export const experimentSchema = z
  .object({
    /** How long the receiver records, seconds. */
    durationSeconds: z
      .number()
      .int()
      .min(MIN_DURATION_SECONDS)
      .max(MAX_DURATION_SECONDS)
      .default(REFERENCE_EXPERIMENT.durationSeconds),
    /** Binance stream names, as a list or one comma-separated string. */
    streams: streamsSchema.default([...REFERENCE_EXPERIMENT.streams]),
    mode: z.enum(MODES).default(REFERENCE_EXPERIMENT.mode),
    forwarderRegion: z
      .string()
      .regex(REGION_RE, 'expected an AWS region such as ap-northeast-1')
      .default(REFERENCE_EXPERIMENT.forwarderRegion),
    /** The receiver's region; with `receiverRegions`, the first of them. */
    receiverRegion: regionSchema('eu-central-1').default(REFERENCE_EXPERIMENT.receiverRegion),
    /**
     * Several receivers, one per region, all relayed to by the one forwarder (absent = one receiver
     * in `receiverRegion`). A list of one is the same as `receiverRegion`.
     */
    receiverRegions: z
      .array(regionSchema('eu-central-1'))
      .min(1)
      .max(MAX_RECEIVER_REGIONS, `at most ${MAX_RECEIVER_REGIONS} receiver regions`)
      .refine((regions) => new Set(regions).size === regions.length, 'a region is listed twice')
      .optional(),
    /**
     * A receiver region whose site or peering fails: `fail` ends the run (everything torn down);
     * `continue` drops that region, measures the others and marks the run degraded. Absent =
     * `fail` (left out rather than filled in, so that `{}`'s input.json is what it always was).
     */
    regionFailure: z.enum(REGION_FAILURE).optional(),
    instanceType: z
      .string()
      .regex(INSTANCE_TYPE_RE, 'expected an EC2 instance type such as c7i.large')
      .default(REFERENCE_EXPERIMENT.instanceType),
    /** The forwarder's zone by AZ ID (or a list to sweep); absent = the first that offers the type. */
    forwarderAzId: azIdsSchema.optional(),
    /**
     * The receiver's zone by AZ ID (or a list to sweep); absent = the first that offers the type.
     * With several receiver regions: a map `{ "<region>": <AZ ID or list> }`, regions left out
     * choosing automatically (an AZ ID belongs to one region, so a bare one would be ambiguous).
     */
    receiverAzId: z.union([azIdsSchema, z.record(regionSchema('eu-central-1'), azIdsSchema)]).optional(),
    label: z
      .string()
      .max(64)
      .regex(LABEL_RE, 'letters, digits, spaces and _ . : / = + @ - only')
      .default(REFERENCE_EXPERIMENT.label),
    /** The exchange's WebSocket base URL (another Binance-compatible endpoint for tests). */
    exchangeUrl: z
      .string()
      .regex(/^wss?:\/\/[^\s]+$/, 'expected a ws:// or wss:// URL')
      .default(REFERENCE_EXPERIMENT.exchangeUrl),
    /**
     * The A/A control: the receiver's second direct connection to the exchange, recorded as
     * `control-results.csv` — the method's own noise floor. Costs a second connection; ignored in
     * backbone mode (no baseline to compare it with).
     */
    control: z.boolean().default(REFERENCE_EXPERIMENT.control),
    /**
     * Record the receiver's direct exchange connection as `capture/baseline.jsonl.gz` under the
     * run's prefix, which `feedpath run --replay s3://…` plays back on a laptop (on by default: the
     * real market of every cloud run can be rerun). Ignored in backbone mode.
     */
    record: z.boolean().default(REFERENCE_EXPERIMENT.record),
    /** The practical-significance threshold (lib/analysis/practical.ts); absent = the analysis's default. */
    ...practicalInputFields,
  })
  .strict();
export type ExperimentInput = z.output<typeof experimentSchema>;

/** The execution input: the experiment, plus the `Comment` the Step Functions console pre-fills (ignored). */
export const executionInputSchema = experimentSchema.extend({ Comment: z.unknown().optional() }).strict();

/**
 * Validates an execution input and fills the defaults, naming the bad field. `allowedRegions`
 * are the regions the deployment sweeps for leftovers: a run anywhere else could leak unseen.
 */
export function parseExperimentInput(value: unknown, allowedRegions: readonly string[]): ExperimentInput {
  const raw = value === null || value === undefined ? {} : value;
  const result = executionInputSchema.safeParse(raw);
  if (!result.success) throw new InvalidInputError(`invalid input: ${describeIssues(result.error)}`);
  const { Comment: _comment, ...input } = result.data;
  const given = raw as Record<string, unknown>;
  if (input.receiverRegions !== undefined) {
    // Both fields agree in the input.json a run stores, so that file can start a run again.
    if (given.receiverRegion !== undefined && given.receiverRegion !== input.receiverRegions[0]) {
      throw new InvalidInputError(
        'invalid input: receiverRegion: give either receiverRegion or receiverRegions, not both',
      );
    }
    input.receiverRegion = input.receiverRegions[0] as string;
  }
  const receiverRegions = receiverRegionsOf(input);
  const azIds = input.receiverAzId;
  if (azIds !== undefined && !Array.isArray(azIds)) {
    const stray = Object.keys(azIds).filter((region) => !receiverRegions.includes(region));
    if (stray.length > 0) {
      throw new InvalidInputError(
        `invalid input: receiverAzId: ${stray.join(', ')} is not a receiver region (${receiverRegions.join(', ')})`,
      );
    }
  } else if (azIds !== undefined && receiverRegions.length > 1) {
    throw new InvalidInputError(
      'invalid input: receiverAzId: with several receiver regions, give a map { "<region>": "<AZ ID>" }',
    );
  }
  const regions: Array<['forwarderRegion' | 'receiverRegion' | 'receiverRegions', string]> =
    input.receiverRegions === undefined
      ? [['receiverRegion', input.receiverRegion]]
      : input.receiverRegions.map((region) => ['receiverRegions', region]);
  if (input.mode !== 'baseline') regions.push(['forwarderRegion', input.forwarderRegion]);
  if (input.mode === 'baseline' && input.forwarderAzId !== undefined) {
    throw new InvalidInputError('invalid input: forwarderAzId: a baseline run has no forwarder');
  }
  for (const [field, region] of regions) {
    if (!allowedRegions.includes(region)) {
      throw new InvalidInputError(
        `invalid input: ${field}: ${region} is not one of the deployment's regions (${allowedRegions.join(', ')}); ` +
          'add it to the `regions` parameter and deploy again',
      );
    }
  }
  return input;
}

/** The run's receiver regions, in the input's order (one unless `receiverRegions` lists more). */
export function receiverRegionsOf(
  input: Pick<ExperimentInput, 'receiverRegion' | 'receiverRegions'>,
): string[] {
  return input.receiverRegions ?? [input.receiverRegion];
}

/** The AZ IDs pinned for the receiver in `region` (undefined = automatic). */
export function receiverAzIdsFor(input: ExperimentInput, region: string): string[] | undefined {
  const azIds = input.receiverAzId;
  if (azIds === undefined || Array.isArray(azIds)) return azIds;
  return azIds[region];
}
