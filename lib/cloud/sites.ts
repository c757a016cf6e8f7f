/** Provision: one CloudFormation stack per site (receiver, forwarder), each in its own region. */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { EC2Client } from '@aws-sdk/client-ec2';
import siteTemplate from '../../cloudformation/site.json';
import type { RegionalClient } from './clients';
import { runTags, SITE_CIDRS, type RunPlan, type SitePlan } from './run';
import { createStack, describeStack, failStack } from './stacks';
import type { DescribeSitesResult, ProvisionSitesResult, SiteStatus } from './contract';
import type { ResultsStore } from '../store';
import { recordPlacement } from './placement';
import { chooseZone, zoneName } from './zones';
import { receiverAzIdsFor } from './input';
import { droppedReceivers } from './regions';

export const SITE_TEMPLATE_BODY = JSON.stringify(siteTemplate);

const AMI_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-';

/** Graviton families carry a `g` after the generation digit (c7g, m7gd, t4g, is4gen); a1 is Graviton 1. */
export function isArmInstanceType(instanceType: string): boolean {
  const family = instanceType.split('.')[0] ?? '';
  return family === 'a1' || /^[a-z]+\d+[a-z-]*g/.test(family);
}

/**
 * The site stack's parameters: `zoneId` is an AZ ID that offers the site's instance type,
 * `boundaryArn` the permissions boundary its instance role must carry.
 */
export function siteParameters(
  run: RunPlan,
  site: SitePlan,
  { zoneId, boundaryArn }: { zoneId: string; boundaryArn: string },
): Record<string, string> {
  const receivesBackbone = site.role === 'receiver' && run.backbone;
  return {
    Role: site.role,
    ResourceName: site.stackName,
    VpcCidr: site.cidr,
    // The first /24 of the VPC, computed here rather than with Fn::Cidr in the template: the same
    // range on AWS, and a template an AWS emulator without Fn::Cidr (moto) can run too.
    SubnetCidr: site.cidr.replace(/\.0\.0\/16$/, '.0.0/24'),
    AvailabilityZoneId: zoneId,
    InstanceType: site.instanceType,
    ImageId: `${AMI_PARAMETER}${isArmInstanceType(site.instanceType) ? 'arm64' : 'x86_64'}`,
    BackbonePeerCidr: receivesBackbone ? SITE_CIDRS.forwarder : '',
    BackbonePort: String(run.backbonePort),
    ResultsBucket: run.bucket,
    RunPrefix: run.prefix,
    InstanceRoleBoundaryArn: boundaryArn,
  };
}

export interface StackDeps {
  cloudFormation: RegionalClient<CloudFormationClient>;
  /** The role CloudFormation acts with. */
  stackRoleArn: string;
}

export interface ProvisionDeps extends StackDeps {
  /** Asked which zones offer the instance type. */
  ec2: RegionalClient<EC2Client>;
  /** The permissions boundary of every run's instance role. */
  instanceBoundaryArn: string;
}

/**
 * ProvisionSites: starts creating every site stack at once (idempotent, for a retried Task), each in
 * its pinned zone or a zone of its region that offers the instance type. Every zone is checked
 * before any stack is created, so a bad pin costs nothing.
 */
export async function provisionSites(
  { run }: { run: RunPlan },
  deps: ProvisionDeps,
): Promise<ProvisionSitesResult> {
  const zones = await Promise.all(
    run.sites.map((site) =>
      chooseZone(deps.ec2(site.region), {
        region: site.region,
        instanceType: site.instanceType,
        field: `${site.role}AzId`,
        pinned: site.role === 'receiver' ? receiverAzIdsFor(run.input, site.region) : run.input.forwarderAzId,
        runId: run.runId,
        // One receiver keeps drawing by its role alone (the same zone of a list as before).
        role: site.role === 'receiver' && run.receivers !== undefined ? `receiver-${site.region}` : site.role,
      }),
    ),
  );
  await Promise.all(
    run.sites.map((site, index) =>
      createStack(deps.cloudFormation(site.region), {
        stackName: site.stackName,
        templateBody: SITE_TEMPLATE_BODY,
        parameters: siteParameters(run, site, {
          zoneId: zones[index] as string,
          boundaryArn: deps.instanceBoundaryArn,
        }),
        tags: runTags(run, site.role),
        roleArn: deps.stackRoleArn,
        clientRequestToken: `${site.stackName}-create`,
      }),
    ),
  );
  return {
    stacks: run.sites.map(({ role, region, stackName }) => ({
      role,
      region,
      stackName,
      status: 'CREATE_IN_PROGRESS',
    })),
  };
}

export interface DescribeDeps extends Pick<StackDeps, 'cloudFormation'> {
  /** The results bucket: run.json gains each site's placement once the sites are ready. */
  store: ResultsStore;
  /** Asked for the zones' names in this account. */
  ec2: RegionalClient<EC2Client>;
}

/**
 * ProvisionDescribeSites: ready when every site stack is complete (then run.json records where each
 * site is); a failed stack throws StackFailed — unless it is a receiver's of a multi-receiver run
 * with `regionFailure: "continue"` and another receiver is still standing: that region is dropped
 * (left out of `sites`, so nothing later reaches it, its stack deleted by TeardownRun with the rest)
 * and recorded in run.json. Each poll decides afresh from the stacks' states, so the Task keeps no
 * memory between calls.
 */
export async function describeSites(
  { run }: { run: RunPlan },
  deps: DescribeDeps,
): Promise<DescribeSitesResult> {
  const described = await Promise.all(
    run.sites.map(async (site) => {
      const client = deps.cloudFormation(site.region);
      return { site, client, view: await describeStack(client, site.stackName) };
    }),
  );
  const failures = await Promise.all(
    described
      .filter(({ view }) => view.phase !== 'pending' && view.phase !== 'complete')
      .map(async ({ site, client, view }) => ({
        site,
        error: await failStack(client, view, site.region).catch((error: unknown) => error as Error),
      })),
  );
  const dropped = droppedReceivers(run, failures);
  const views = described.filter(
    ({ site }) => !dropped.some((d) => d.region === site.region && site.role === 'receiver'),
  );
  const statuses = views.map(({ site, view }) => ({
    role: site.role,
    region: site.region,
    stackName: site.stackName,
    status: view.status,
  }));
  if (!views.every(({ view }) => view.phase === 'complete')) return { ready: false, sites: statuses };
  const sites = views.map(({ site, view }, index) => ({
    ...(statuses[index] as SiteStatus),
    cidr: site.cidr,
    instanceId: requiredOutput(view.outputs, 'InstanceId', site.stackName),
    privateIp: requiredOutput(view.outputs, 'PrivateIp', site.stackName),
    vpcId: requiredOutput(view.outputs, 'VpcId', site.stackName),
    routeTableId: requiredOutput(view.outputs, 'RouteTableId', site.stackName),
    availabilityZoneId: requiredOutput(view.outputs, 'AvailabilityZoneId', site.stackName),
  }));
  // `sites` follows `views` (not run.sites: a dropped receiver is in neither), so each placement
  // takes its instance type from its own site's plan.
  const plans = views.map(({ site }) => site);
  const placed = await Promise.all(
    sites.map(async (site, index) => ({
      role: site.role,
      region: site.region,
      availabilityZoneId: site.availabilityZoneId,
      availabilityZoneName: await zoneName(deps.ec2(site.region), site.availabilityZoneId),
      instanceType: (plans[index] as SitePlan).instanceType,
    })),
  );
  await recordPlacement(deps.store, run, placed, dropped);
  return { ready: true, sites, ...(dropped.length > 0 ? { dropped } : {}) };
}

function requiredOutput(outputs: Record<string, string>, key: string, stackName: string): string {
  const value = outputs[key];
  if (value === undefined) throw new Error(`stack ${stackName} is complete but has no output ${key}`);
  return value;
}
