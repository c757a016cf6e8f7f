/**
 * What a cloud run cost, estimated from what it used and priced from the table in the repository
 * (`pricing/aws-prices.json`: On-Demand list prices with their date and source, which a user
 * updates). report.json carries it as `cost`, the history record as `cost_usd`; local runs have none.
 *
 * Estimated, not billed: the analysis runs before teardown, so
 * - instance time is the run's own timestamps — from the execution's start (the stacks are created
 *   after it, so this bounds the launch from above) to the analysis, plus {@link TEARDOWN_ALLOWANCE_S}
 *   for the instances' termination; each site's public IPv4 address and its root volume for as long;
 * - bytes across regions are the forwarder's own count of what it wrote to the receivers
 *   (`metrics/forwarder.json`, `receivers[].relayed_bytes`), measured;
 * - state transitions and Lambda time are estimated from the states a run takes: the fixed ones
 *   plus one polling round (Task, Choice, Wait) every {@link MEAN_POLL_WAIT_S} outside the measurement.
 * Items the table has no price for are listed with `usd: null`, and the total says it is incomplete.
 */
import { z } from 'zod';
import pricesJson from '../../pricing/aws-prices.json';
import siteTemplate from '../../cloudformation/site.json';
import { agentMetricsSchema } from '../agent-files';
import { describeIssues } from '../zod-issues';
import { readJsonWith, type ResultsStore } from '../store';
import type { RunPlan } from './run';

/** Where the price table lives, relative to the repository (report.json names it). */
export const PRICES_FILE = 'pricing/aws-prices.json';

const usd = z.number().nonnegative();
const byRegion = z.record(z.string(), usd);

/** The price table's schema: every section carries the page its figures come from. */
export const priceTableSchema = z
  .object({
    /** When the figures were taken (YYYY-MM-DD). */
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    currency: z.literal('USD'),
    note: z.string().optional(),
    ec2: z.object({ source: z.string().min(1), perHour: z.record(z.string(), byRegion) }).strict(),
    publicIpv4: z.object({ source: z.string().min(1), perHour: usd }).strict(),
    ebsGp3: z.object({ source: z.string().min(1), perGbMonth: byRegion }).strict(),
    dataTransfer: z
      .object({ source: z.string().min(1), interRegionPerGbFrom: byRegion, crossZonePerGbEachWay: usd })
      .strict(),
    stepFunctions: z.object({ source: z.string().min(1), perStateTransition: usd }).strict(),
    lambda: z.object({ source: z.string().min(1), perGbSecond: usd, perRequest: usd }).strict(),
  })
  .strict();
export type PriceTable = z.infer<typeof priceTableSchema>;

/** The table in the repository, validated (a malformed edit fails here, loudly, not in a run). */
export function loadPriceTable(value: unknown = pricesJson): PriceTable {
  const parsed = priceTableSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${PRICES_FILE}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** From the analysis to the instances' termination (peering stacks first, then the sites). */
export const TEARDOWN_ALLOWANCE_S = 120;
/** EC2 bills at least a minute per instance start. */
const EC2_MINIMUM_S = 60;
/** The polling loops' waits average about this (lib/cloud/limits.ts POLL: 10–20 s). */
export const MEAN_POLL_WAIT_S = 15;
/** One polling round: the Task, the Choice, the Wait. */
const TRANSITIONS_PER_POLL = 3;
/** The states a paired run passes once (prepare … succeed), rounded up. */
const FIXED_TRANSITIONS = 25;
/** The Lambda invocations a run makes once (prepare, provision, connect, two agents, analysis, teardown). */
const FIXED_INVOCATIONS = 8;
/** A polling Lambda's typical duration, s. */
const POLL_INVOCATION_S = 0.5;
/** The Lambdas' default memory, GB (serverless.yml provider.memorySize; test/serverless.test.ts checks it). */
export const DEFAULT_LAMBDA_GB = 0.25;
/** The analysis Lambda's memory, GB (serverless.yml functions.analyze.memorySize; checked likewise). */
export const ANALYZE_LAMBDA_GB = 2;
const HOURS_PER_MONTH = 730;
const GB = 1e9;

/** The root volume of a site (cloudformation/site.json), GB: one home for the figure. */
export const SITE_VOLUME_GB: number = (() => {
  const volume = siteTemplate.Resources.Instance.Properties.BlockDeviceMappings[0]?.Ebs.VolumeSize;
  return typeof volume === 'number' ? volume : 0;
})();

/** What a run used, as the estimate counts it. */
export interface RunUsage {
  /** One per site: role, region, instance type and the seconds it is billed for. */
  instances: Array<{ role: string; region: string; instanceType: string; seconds: number }>;
  /** Relayed by the forwarder, from its region; null when not measured (no forwarder metrics). */
  relayed: { fromRegion: string; crossRegion: boolean; bytes: number | null } | null;
  stateTransitions: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
}

export interface CostItem {
  item: 'ec2' | 'public-ipv4' | 'ebs' | 'data-transfer' | 'step-functions' | 'lambda';
  /** What it is, for people: `receiver c7i.large in eu-central-1, 512 s`. */
  detail: string;
  quantity: number;
  unit: string;
  unit_usd: number | null;
  /** null: the table has no price for it. */
  usd: number | null;
  /** measured, or estimated (and how). */
  basis: string;
}

/** report.json `cost`. */
export interface RunCost {
  /** The sum of the priced items, USD. */
  total_usd: number;
  /** False when an item had no price in the table (its cost is missing from the total). */
  complete: boolean;
  currency: 'USD';
  prices: { file: string; date: string };
  items: CostItem[];
  note: string;
}

const round = (value: number, digits = 6): number => Number(value.toFixed(digits));

/** Prices what a run used. Pure: the table is a parameter. */
export function estimateCost(usage: RunUsage, prices: PriceTable): RunCost {
  const items: CostItem[] = [];
  const add = (item: Omit<CostItem, 'usd'>): void => {
    items.push({
      ...item,
      quantity: round(item.quantity),
      usd: item.unit_usd === null ? null : round(item.quantity * item.unit_usd),
    });
  };
  const timeBasis = `execution start to analysis + ${TEARDOWN_ALLOWANCE_S} s teardown (estimated)`;
  for (const site of usage.instances) {
    const seconds = Math.max(site.seconds, EC2_MINIMUM_S);
    add({
      item: 'ec2',
      detail: `${site.role} ${site.instanceType} in ${site.region}, ${Math.round(seconds)} s`,
      quantity: seconds / 3600,
      unit: 'instance-hour',
      unit_usd: prices.ec2.perHour[site.region]?.[site.instanceType] ?? null,
      basis: timeBasis,
    });
    add({
      item: 'public-ipv4',
      detail: `${site.role} public IPv4 address in ${site.region}`,
      quantity: seconds / 3600,
      unit: 'address-hour',
      unit_usd: prices.publicIpv4.perHour,
      basis: timeBasis,
    });
    add({
      item: 'ebs',
      detail: `${site.role} ${SITE_VOLUME_GB} GB gp3 root volume in ${site.region}`,
      quantity: (SITE_VOLUME_GB * seconds) / 3600 / HOURS_PER_MONTH,
      unit: 'GB-month',
      unit_usd: prices.ebsGp3.perGbMonth[site.region] ?? null,
      basis: timeBasis,
    });
  }
  const relayed = usage.relayed;
  if (relayed !== null) {
    const gb = (relayed.bytes ?? 0) / GB;
    add({
      item: 'data-transfer',
      detail: relayed.crossRegion
        ? `relayed from ${relayed.fromRegion} to the receiver's region`
        : `relayed within ${relayed.fromRegion} (across zones at most: both ways counted)`,
      quantity: gb,
      unit: 'GB',
      unit_usd: relayed.crossRegion
        ? (prices.dataTransfer.interRegionPerGbFrom[relayed.fromRegion] ?? null)
        : 2 * prices.dataTransfer.crossZonePerGbEachWay,
      basis:
        relayed.bytes === null
          ? 'not measured (no relayed_bytes in metrics/forwarder.json): counted as 0'
          : "measured: the forwarder's bytes written to the receivers",
    });
  }
  add({
    item: 'step-functions',
    detail: 'state transitions of the execution',
    quantity: usage.stateTransitions,
    unit: 'transition',
    unit_usd: prices.stepFunctions.perStateTransition,
    basis: `estimated: ${FIXED_TRANSITIONS} fixed + ${TRANSITIONS_PER_POLL} per ${MEAN_POLL_WAIT_S} s of polling`,
  });
  const lambdaUsd =
    usage.lambdaGbSeconds * prices.lambda.perGbSecond + usage.lambdaRequests * prices.lambda.perRequest;
  items.push({
    item: 'lambda',
    detail: `${usage.lambdaRequests} invocations, ${round(usage.lambdaGbSeconds, 1)} GB-s`,
    quantity: round(usage.lambdaGbSeconds),
    unit: 'GB-second',
    unit_usd: prices.lambda.perGbSecond,
    usd: round(lambdaUsd),
    basis: `estimated: ${POLL_INVOCATION_S} s per polling invocation, the analysis' own time measured (requests included)`,
  });
  const priced = items.filter((i): i is CostItem & { usd: number } => i.usd !== null);
  return {
    total_usd: round(
      priced.reduce((sum, i) => sum + i.usd, 0),
      4,
    ),
    complete: priced.length === items.length,
    currency: 'USD',
    prices: { file: PRICES_FILE, date: prices.date },
    items,
    note:
      'An estimate from On-Demand list prices (no free tier, no discounts, no tax), not the bill: ' +
      'Cost Explorer has the billed figures, tagged feedpath:run.',
  };
}

const forwarderRelaySchema = z.looseObject({
  receivers: z.array(z.looseObject({ relayed_bytes: z.number().nonnegative().optional() })).optional(),
});

/** The bytes the forwarder wrote to its receivers (metrics/forwarder.json); null when it did not say. */
export async function relayedBytes(store: ResultsStore, prefix: string): Promise<number | null> {
  const metrics = await readJsonWith(
    store,
    `${prefix}metrics/forwarder.json`,
    agentMetricsSchema.and(forwarderRelaySchema),
  );
  if (metrics === null) return null;
  const counts = (metrics.receivers ?? []).map((r) => r.relayed_bytes);
  if (counts.length === 0 || counts.some((c) => c === undefined)) return null;
  return counts.reduce<number>((sum, c) => sum + (c ?? 0), 0);
}

/**
 * What the run used, from its plan, the analysis' clock and the forwarder's byte count.
 * `analysisSeconds` is how long the analysis has taken so far (its own Lambda time).
 */
export function usageOfRun(
  run: RunPlan,
  options: { now: Date; relayedBytes: number | null; analysisSeconds: number },
): RunUsage {
  const startedMs = Date.parse(run.startedAt);
  const seconds = Math.max(0, (options.now.getTime() - startedMs) / 1000) + TEARDOWN_ALLOWANCE_S;
  const instances = run.sites.map((site) => ({
    role: site.role,
    region: site.region,
    instanceType: site.instanceType,
    seconds,
  }));
  const forwarder = run.sites.find((s) => s.role === 'forwarder');
  const receivers = run.sites.filter((s) => s.role !== 'forwarder');
  const relayed =
    forwarder === undefined
      ? null
      : {
          fromRegion: forwarder.region,
          crossRegion: receivers.some((s) => s.region !== forwarder.region),
          bytes: options.relayedBytes,
        };
  // Polling happens whenever the run is not measuring: the rest of its time.
  const pollingSeconds = Math.max(0, seconds - run.input.durationSeconds);
  const polls = Math.ceil(pollingSeconds / MEAN_POLL_WAIT_S);
  const lambdaRequests = FIXED_INVOCATIONS + polls;
  return {
    instances,
    relayed,
    stateTransitions: FIXED_TRANSITIONS + TRANSITIONS_PER_POLL * polls,
    lambdaRequests,
    lambdaGbSeconds:
      (lambdaRequests - 1) * POLL_INVOCATION_S * DEFAULT_LAMBDA_GB +
      Math.max(options.analysisSeconds, POLL_INVOCATION_S) * ANALYZE_LAMBDA_GB,
  };
}
