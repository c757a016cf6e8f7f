/**
 * A run's plan: its id, where its files go, and the stacks it creates. Everything a later Task needs
 * to find (or delete) a resource is derived here, once, so that teardown never depends on how far
 * provisioning got: stack names are a function of the run id.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { experimentSchema, MAX_RECEIVER_REGIONS, receiverRegionsOf, type ExperimentInput } from './input';
import { expirySeconds } from './limits';
import { receiverPrefix } from '../run-file';

export const SITE_ROLES = ['receiver', 'forwarder'] as const;
export type SiteRole = (typeof SITE_ROLES)[number];

/** Non-overlapping VPC ranges, so the two sites can be peered (also within one region). */
export const SITE_CIDRS: Record<SiteRole, string> = { receiver: '10.10.0.0/16', forwarder: '10.20.0.0/16' };

/**
 * The VPC range of the receiver at `index` in the run's receiver regions: 10.10/16 for the first
 * (a one-receiver run's, unchanged), then 10.11/16, 10.12/16 … — by position, so every range of a
 * run differs from the others and from the forwarder's 10.20/16 (the cap keeps the index below 10).
 */
export function receiverCidr(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_RECEIVER_REGIONS) {
    throw new RangeError(`no receiver VPC range for index ${index}`);
  }
  return `10.${10 + index}.0.0/16`;
}
/** The receiver's port for the forwarder's relay; open only to the forwarder VPC's range. */
export const BACKBONE_PORT = 9100;

/** Tag keys every created resource carries (stack tags propagate to the stack's resources). */
export const TAG = {
  run: 'feedpath:run',
  stage: 'feedpath:stage',
  expiresAt: 'feedpath:expires-at',
  label: 'feedpath:label',
  role: 'feedpath:role',
} as const;

export const STAGE_RE = /^[a-z0-9][a-z0-9-]{0,15}$/;

export const stackRefSchema = z.object({ region: z.string().min(1), stackName: z.string().min(1) }).strict();
export type StackRef = z.infer<typeof stackRefSchema>;

export const sitePlanSchema = stackRefSchema
  .extend({ role: z.enum(SITE_ROLES), cidr: z.string(), instanceType: z.string() })
  .strict();
export type SitePlan = z.infer<typeof sitePlanSchema>;

/** One peering: the requester stack (forwarder's region) and the accepter's routes (receiver's region). */
export const peeringPlanSchema = z.object({ requester: stackRefSchema, accepter: stackRefSchema }).strict();
export type PeeringPlan = z.infer<typeof peeringPlanSchema>;

/**
 * One receiver of a multi-receiver run: its name (its region: the folder `receivers/<name>/` of
 * the run's prefix holds its files) and its own peering with the forwarder (null in baseline mode).
 * Not strict: run.json (whose plan a teardown-only execution reads back) may say more of it.
 */
export const receiverPlanSchema = z.object({
  name: z.string().min(1),
  region: z.string().min(1),
  peering: peeringPlanSchema.nullable(),
});
export type ReceiverPlan = z.infer<typeof receiverPlanSchema>;

export const runPlanSchema = z
  .object({
    /** `20261122-020231-k3f9`: sorts by start time; the suffix comes from the execution id. */
    runId: z.string().regex(/^\d{8}-\d{6}-[a-z0-9]{4}$/),
    stage: z.string().regex(STAGE_RE),
    bucket: z.string().min(1),
    bucketRegion: z.string().min(1),
    /** `runs/YYYY/MM/DD/<runId>/`: where every file of the run goes. */
    prefix: z.string().regex(/^runs\/\d{4}\/\d{2}\/\d{2}\/[^/]+\/$/),
    startedAt: z.string(),
    /** After this instant the sweeper may delete whatever the run left behind. */
    expiresAt: z.string(),
    input: experimentSchema,
    /** False in baseline mode: no forwarder site, no peering, no forwarder agent. */
    backbone: z.boolean(),
    /** The receiver(s) first, in the input's order, then the forwarder when there is a backbone. */
    sites: z
      .array(sitePlanSchema)
      .min(1)
      .max(MAX_RECEIVER_REGIONS + 1),
    /**
     * A one-receiver run's peering stacks, deleted before the sites: requester (forwarder region)
     * and accepter routes. Null in baseline mode, and in a multi-receiver run (see `receivers`).
     */
    peering: peeringPlanSchema.nullable(),
    /** Multi-receiver runs only (absent with one receiver, whose plan is as it always was). */
    receivers: z.array(receiverPlanSchema).min(2).max(MAX_RECEIVER_REGIONS).optional(),
    backbonePort: z.number().int(),
  })
  .strict();
export type RunPlan = z.infer<typeof runPlanSchema>;

/** What the deployment tells a run (Lambda environment, or the local runner's choice). */
export interface Deployment {
  stage: string;
  bucket: string;
  bucketRegion: string;
}

export interface ExecutionRef {
  /** The execution ARN (`$$.Execution.Id`), unique per execution. */
  id: string;
  /** ISO start time (`$$.Execution.StartTime`). */
  startTime: string;
}

export const executionRefSchema = z.object({
  id: z.string().min(1),
  startTime: z.iso.datetime({ offset: true }),
});

/** A run id that sorts by time and does not collide: the execution id decides the suffix. */
export function runIdFor(execution: ExecutionRef): string {
  const iso = new Date(execution.startTime).toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
  const digest = createHash('sha256').update(execution.id).digest();
  const suffix = (digest.readUInt32BE(0) % 36 ** 4).toString(36).padStart(4, '0');
  return `${stamp}-${suffix}`;
}

/** The name of one of the run's stacks: `feedpath-<stage>-run-<runId>-<part>`. */
export function stackName(stage: string, runId: string, part: string): string {
  return `${stackNamePrefix(stage)}${runId}-${part}`;
}

/** Every stack a run of this stage creates starts with this (IAM and the sweeper rely on it). */
export function stackNamePrefix(stage: string): string {
  return `feedpath-${stage}-run-`;
}

/** Plans a run; pure apart from the random backbone token. */
export function planRun(input: ExperimentInput, deployment: Deployment, execution: ExecutionRef): RunPlan {
  const runId = runIdFor(execution);
  const started = new Date(execution.startTime);
  const backbone = input.mode !== 'baseline';
  const regions = receiverRegionsOf(input);
  const several = regions.length > 1;
  // With several receivers, each stack name carries its region (names are unique per run and say
  // where a stack is); one receiver keeps the names it always had.
  const part = (base: string, region: string): string => (several ? `${base}-${region}` : base);
  const name = (base: string, region: string): string =>
    stackName(deployment.stage, runId, part(base, region));
  const sites: SitePlan[] = regions.map((region, index) => ({
    role: 'receiver',
    region,
    stackName: name('receiver', region),
    cidr: receiverCidr(index),
    instanceType: input.instanceType,
  }));
  if (backbone) {
    sites.push({
      role: 'forwarder',
      region: input.forwarderRegion,
      stackName: stackName(deployment.stage, runId, 'forwarder'),
      cidr: SITE_CIDRS.forwarder,
      instanceType: input.instanceType,
    });
  }
  const peeringFor = (region: string): PeeringPlan | null =>
    backbone
      ? {
          requester: { region: input.forwarderRegion, stackName: name('peering', region) },
          accepter: { region, stackName: name('peering-routes', region) },
        }
      : null;
  return {
    runId,
    stage: deployment.stage,
    bucket: deployment.bucket,
    bucketRegion: deployment.bucketRegion,
    prefix: runPrefixFor(runId, execution.startTime),
    startedAt: started.toISOString(),
    expiresAt: new Date(started.getTime() + expirySeconds(input.durationSeconds) * 1000).toISOString(),
    input,
    backbone,
    sites,
    peering: several ? null : peeringFor(input.receiverRegion),
    ...(several
      ? { receivers: regions.map((region) => ({ name: region, region, peering: peeringFor(region) })) }
      : {}),
    backbonePort: BACKBONE_PORT,
  };
}

/** Every receiver of the run with its peering: the one of a one-receiver run is named by its region too. */
export function receiversOf(run: Pick<RunPlan, 'receivers' | 'sites' | 'peering'>): ReceiverPlan[] {
  if (run.receivers !== undefined) return run.receivers;
  const site = run.sites.find((s) => s.role === 'receiver') as SitePlan;
  return [{ name: site.region, region: site.region, peering: run.peering }];
}

/** Where a receiver's files go: `receivers/<name>/` of the run's prefix with several receivers, the prefix itself with one. */
export function receiverUploadPrefix(run: Pick<RunPlan, 'prefix' | 'receivers'>, region: string): string {
  if (run.receivers === undefined) return run.prefix;
  const receiver = run.receivers.find((r) => r.region === region);
  if (receiver === undefined) throw new Error(`no receiver in ${region} in this run`);
  return `${run.prefix}${receiverPrefix(receiver.name)}`;
}

/** The tags of every stack of the run (CloudFormation copies them onto the stack's resources). */
export function runTags(run: RunPlan, role: string): Array<{ Key: string; Value: string }> {
  const tags: Array<{ Key: string; Value: string }> = [
    { Key: TAG.run, Value: run.runId },
    { Key: TAG.stage, Value: run.stage },
    { Key: TAG.expiresAt, Value: run.expiresAt },
    { Key: TAG.role, Value: role },
  ];
  if (run.input.label !== '') tags.push({ Key: TAG.label, Value: run.input.label });
  return tags;
}

/** Every stack of the run in teardown order: layers deleted one after the other. */
/** The run's prefix in the bucket: `runs/YYYY/MM/DD/<runId>/` (UTC start day). */
export function runPrefixFor(runId: string, startTime: string): string {
  return `runs/${new Date(startTime).toISOString().slice(0, 10).replaceAll('-', '/')}/${runId}/`;
}

export function teardownLayers(run: Pick<RunPlan, 'sites' | 'peering' | 'receivers'>): StackRef[][] {
  const layers: StackRef[][] = [];
  const peerings = receiversOf(run).flatMap((r) => (r.peering === null ? [] : [r.peering]));
  if (peerings.length > 0) layers.push(peerings.flatMap((p) => [p.accepter, p.requester]));
  layers.push(run.sites.map(({ region, stackName: name }) => ({ region, stackName: name })));
  return layers;
}
