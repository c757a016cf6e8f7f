/**
 * A run's plan: its id, where its files go, and the stacks it creates. Everything a later Task needs
 * to find (or delete) a resource is derived here, once, so that teardown never depends on how far
 * provisioning got: stack names are a function of the run id.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { experimentSchema, type ExperimentInput } from './input';
import { expirySeconds } from './limits';

export const SITE_ROLES = ['receiver', 'forwarder'] as const;
export type SiteRole = (typeof SITE_ROLES)[number];

/** Non-overlapping VPC ranges, so the two sites can be peered (also within one region). */
export const SITE_CIDRS: Record<SiteRole, string> = { receiver: '10.10.0.0/16', forwarder: '10.20.0.0/16' };
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
    /** The receiver first, then the forwarder when there is a backbone. */
    sites: z.array(sitePlanSchema).min(1).max(2),
    /** Peering stacks, deleted before the sites: requester (forwarder region) and accepter routes. */
    peering: z.object({ requester: stackRefSchema, accepter: stackRefSchema }).strict().nullable(),
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
  const site = (role: SiteRole, region: string): SitePlan => ({
    role,
    region,
    stackName: stackName(deployment.stage, runId, role),
    cidr: SITE_CIDRS[role],
    instanceType: input.instanceType,
  });
  const sites = [site('receiver', input.receiverRegion)];
  if (backbone) sites.push(site('forwarder', input.forwarderRegion));
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
    peering: backbone
      ? {
          requester: {
            region: input.forwarderRegion,
            stackName: stackName(deployment.stage, runId, 'peering'),
          },
          accepter: {
            region: input.receiverRegion,
            stackName: stackName(deployment.stage, runId, 'peering-routes'),
          },
        }
      : null,
    backbonePort: BACKBONE_PORT,
  };
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

export function teardownLayers(run: Pick<RunPlan, 'sites' | 'peering'>): StackRef[][] {
  const layers: StackRef[][] = [];
  if (run.peering !== null) layers.push([run.peering.accepter, run.peering.requester]);
  layers.push(run.sites.map(({ region, stackName: name }) => ({ region, stackName: name })));
  return layers;
}
