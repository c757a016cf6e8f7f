/**
 * Connect: the backbone between the sites. Inter-region VPC peering needs a stack on each side (a
 * stack is regional): the requester in the forwarder's region creates the connection and its route,
 * then the accepter in the receiver's region adds the route back. Each call advances one step, so
 * the ASL polls this Task until it reports `connected`.
 */
import peeringTemplate from '../../cloudformation/peering.json';
import type { ConnectSitesResult, SiteReady, SitesEvent } from './contract';
import { runTags } from './run';
import { createStack, describeStack, failStack, type StackView } from './stacks';
import type { StackDeps } from './sites';

export const PEERING_TEMPLATE_BODY = JSON.stringify(peeringTemplate);

function siteOf(sites: SiteReady[], role: SiteReady['role']): SiteReady {
  const site = sites.find((s) => s.role === role);
  if (site === undefined) throw new Error(`no ${role} site in the Task input`);
  return site;
}

/** ConnectSites: creates the requester stack, then the accepter stack; connected when both are complete. */
export async function connectSites({ run, sites }: SitesEvent, deps: StackDeps): Promise<ConnectSitesResult> {
  if (run.peering === null) return { connected: true, peeringConnectionId: null };
  const forwarder = siteOf(sites, 'forwarder');
  const receiver = siteOf(sites, 'receiver');
  const { requester, accepter } = run.peering;

  const requesterClient = deps.cloudFormation(requester.region);
  const requesterView = await describeStack(requesterClient, requester.stackName);
  if (requesterView.phase === 'gone') {
    await createStack(requesterClient, {
      stackName: requester.stackName,
      templateBody: PEERING_TEMPLATE_BODY,
      parameters: {
        Side: 'requester',
        RouteTableId: forwarder.routeTableId,
        PeerCidr: receiver.cidr,
        VpcId: forwarder.vpcId,
        PeerVpcId: receiver.vpcId,
        PeerRegion: receiver.region,
      },
      tags: runTags(run, 'peering'),
      roleArn: deps.stackRoleArn,
      clientRequestToken: `${requester.stackName}-create`,
    });
    return { connected: false, peeringConnectionId: null };
  }
  const peeringConnectionId = await settled(requesterView, requesterClient, requester.region);
  if (peeringConnectionId === null) return { connected: false, peeringConnectionId: null };

  const accepterClient = deps.cloudFormation(accepter.region);
  const accepterView = await describeStack(accepterClient, accepter.stackName);
  if (accepterView.phase === 'gone') {
    await createStack(accepterClient, {
      stackName: accepter.stackName,
      templateBody: PEERING_TEMPLATE_BODY,
      parameters: {
        Side: 'accepter',
        RouteTableId: receiver.routeTableId,
        PeerCidr: forwarder.cidr,
        PeeringConnectionId: peeringConnectionId,
      },
      tags: runTags(run, 'peering-routes'),
      roleArn: deps.stackRoleArn,
      clientRequestToken: `${accepter.stackName}-create`,
    });
    return { connected: false, peeringConnectionId };
  }
  const accepted = await settled(accepterView, accepterClient, accepter.region);
  return { connected: accepted !== null, peeringConnectionId };
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
