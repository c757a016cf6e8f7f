/**
 * Connect: the backbone between the sites. Inter-region VPC peering needs a stack on each side (a
 * stack is regional): the requester in the forwarder's region creates the connection and its route,
 * then the accepter in the receiver's region adds the route back — one such pair per receiver. Each call advances one step, so
 * the ASL polls this Task until it reports `connected`.
 */
import peeringTemplate from '../../cloudformation/peering.json';
import type { ConnectSitesResult, SiteReady, SitesEvent } from './contract';
import { receiversOf, runTags, type PeeringPlan, type RunPlan } from './run';
import { createStack, describeStack, failStack, type StackView } from './stacks';
import type { StackDeps } from './sites';

export const PEERING_TEMPLATE_BODY = JSON.stringify(peeringTemplate);

function siteOf(sites: SiteReady[], role: SiteReady['role']): SiteReady {
  const site = sites.find((s) => s.role === role);
  if (site === undefined) throw new Error(`no ${role} site in the Task input`);
  return site;
}

/**
 * ConnectSites: for each receiver still in the run (all at once), creates the requester stack, then
 * the accepter stack; connected when every pair is complete. A receiver region dropped at
 * provisioning is not in `sites` and gets no peering.
 */
export async function connectSites({ run, sites }: SitesEvent, deps: StackDeps): Promise<ConnectSitesResult> {
  const forwarder = run.backbone ? siteOf(sites, 'forwarder') : undefined;
  const pairs = receiversOf(run).flatMap(({ region, peering }) => {
    const receiver = sites.find((s) => s.role === 'receiver' && s.region === region);
    return peering === null || receiver === undefined ? [] : [{ peering, receiver }];
  });
  if (forwarder === undefined || pairs.length === 0) return { connected: true, peeringConnectionId: null };
  const steps = await Promise.all(
    pairs.map(({ peering, receiver }) => connectPair(run, peering, forwarder, receiver, deps)),
  );
  return {
    connected: steps.every((step) => step.connected),
    // The first pair's: what a one-receiver run always reported.
    peeringConnectionId: (steps[0] as ConnectSitesResult).peeringConnectionId,
  };
}

/** One step of peering the forwarder with one receiver: the requester's side first, then the accepter's. */
async function connectPair(
  run: RunPlan,
  { requester, accepter }: PeeringPlan,
  forwarder: SiteReady,
  receiver: SiteReady,
  deps: StackDeps,
): Promise<ConnectSitesResult> {
  const peeringConnectionId = await advanceSide(run, deps, requester, 'peering', {
    Side: 'requester',
    RouteTableId: forwarder.routeTableId,
    PeerCidr: receiver.cidr,
    VpcId: forwarder.vpcId,
    PeerVpcId: receiver.vpcId,
    PeerRegion: receiver.region,
  });
  if (peeringConnectionId === null) return { connected: false, peeringConnectionId: null };
  const accepted = await advanceSide(run, deps, accepter, 'peering-routes', {
    Side: 'accepter',
    RouteTableId: receiver.routeTableId,
    PeerCidr: forwarder.cidr,
    PeeringConnectionId: peeringConnectionId,
  });
  return { connected: accepted !== null, peeringConnectionId };
}

/**
 * One side's step: creates its stack (tagged with `role`) when there is none yet, else waits for it.
 * The connection id once the stack is complete; null while it is being created.
 */
async function advanceSide(
  run: RunPlan,
  deps: StackDeps,
  { region, stackName }: PeeringPlan['requester'],
  role: string,
  parameters: Record<string, string>,
): Promise<string | null> {
  const client = deps.cloudFormation(region);
  const view = await describeStack(client, stackName);
  if (view.phase !== 'gone') return settled(view, client, region);
  await createStack(client, {
    stackName,
    templateBody: PEERING_TEMPLATE_BODY,
    parameters,
    tags: runTags(run, role),
    roleArn: deps.stackRoleArn,
    clientRequestToken: `${stackName}-create`,
  });
  return null;
}

/** The connection id once the stack is complete, null while it is being created; throws when it failed. */
async function settled(
  view: StackView,
  client: Parameters<typeof failStack>[0],
  region: string,
): Promise<string | null> {
  if (view.phase === 'pending') return null;
  if (view.phase !== 'complete') return failStack(client, view, region);
  const id = view.outputs.PeeringConnectionId;
  if (id === undefined)
    throw new Error(`stack ${view.stackName} is complete but has no output PeeringConnectionId`);
  return id;
}
