/**
 * The sweeper: deletes run stacks whose expiry tag has passed, in every configured region. It is
 * the backstop for an execution that could not tear down (stopped by hand, or by the state
 * machine's own timeout). A run's peering stacks go first; its sites wait for the next sweep while
 * a peering stack of the run still exists, because the peering routes live in the sites' route tables.
 */
import { DescribeStacksCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import type { RegionalClient } from './clients';
import { stackNamePrefix, TAG } from './run';
import { deleteStack, rethrowCloudError } from './stacks';

export interface SweeperDeps {
  cloudFormation: RegionalClient<CloudFormationClient>;
  regions: readonly string[];
  stage: string;
  now: () => Date;
}

export interface SweepResult {
  /** Stacks whose deletion this sweep started. */
  deleted: Array<{ region: string; stackName: string }>;
  /** Expired sites left for the next sweep because their run's peering still exists. */
  deferred: Array<{ region: string; stackName: string }>;
}

interface RunStack {
  region: string;
  stackName: string;
  runId: string;
  role: string;
  expired: boolean;
  status: string;
}

function tag(stack: Stack, key: string): string | undefined {
  return stack.Tags?.find((t) => t.Key === key)?.Value;
}

async function listRunStacks(deps: SweeperDeps, region: string): Promise<RunStack[]> {
  const client = deps.cloudFormation(region);
  const prefix = stackNamePrefix(deps.stage);
  const found: RunStack[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new DescribeStacksCommand({ NextToken: token }));
    } catch (error) {
      return rethrowCloudError(error, `list stacks in ${region}`);
    }
    for (const stack of page.Stacks ?? []) {
      const name = stack.StackName ?? '';
      if (!name.startsWith(prefix) || tag(stack, TAG.stage) !== deps.stage) continue;
      const expiresAt = Date.parse(tag(stack, TAG.expiresAt) ?? '');
      found.push({
        region,
        stackName: name,
        runId: tag(stack, TAG.run) ?? '',
        role: tag(stack, TAG.role) ?? '',
        // A stack without a readable expiry is not ours to judge: leave it.
        expired: Number.isFinite(expiresAt) && expiresAt < deps.now().getTime(),
        status: stack.StackStatus ?? '',
      });
    }
    token = page.NextToken;
  } while (token !== undefined);
  return found;
}

/** Starts deleting every expired run stack of this stage; returns what it did. */
export async function sweepExpiredStacks(deps: SweeperDeps): Promise<SweepResult> {
  const stacks = (await Promise.all(deps.regions.map((region) => listRunStacks(deps, region)))).flat();
  const isPeering = (s: RunStack): boolean => s.role.startsWith('peering');
  const runsWithPeering = new Set(
    stacks.filter((s) => isPeering(s) && s.status !== 'DELETE_COMPLETE').map((s) => s.runId),
  );
  const result: SweepResult = { deleted: [], deferred: [] };
  for (const stack of stacks) {
    if (!stack.expired || stack.status === 'DELETE_IN_PROGRESS' || stack.status === 'DELETE_COMPLETE')
      continue;
    const ref = { region: stack.region, stackName: stack.stackName };
    if (!isPeering(stack) && runsWithPeering.has(stack.runId)) {
      result.deferred.push(ref);
      continue;
    }
    await deleteStack(deps.cloudFormation(stack.region), stack.stackName);
    result.deleted.push(ref);
  }
  return result;
}
