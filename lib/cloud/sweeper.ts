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
  /**
   * What this sweep could not do, each isolated from the rest: a region it could not list (e.g. an
   * opt-in region not enabled) or a stack whose deletion was refused. Retried on the next sweep.
   */
  failed: Array<{ region: string; stackName?: string; reason: string }>;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
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

/**
 * Starts deleting every expired run stack of this stage; returns what it did. A region that cannot
 * be listed, or a stack that refuses deletion, is recorded in `failed` and the sweep goes on.
 */
export async function sweepExpiredStacks(deps: SweeperDeps): Promise<SweepResult> {
  const result: SweepResult = { deleted: [], deferred: [], failed: [] };
  const listed = await Promise.allSettled(deps.regions.map((region) => listRunStacks(deps, region)));
  const stacks: RunStack[] = [];
  listed.forEach((outcome, k) => {
    if (outcome.status === 'fulfilled') stacks.push(...outcome.value);
    else result.failed.push({ region: deps.regions[k] as string, reason: reasonOf(outcome.reason) });
  });
  const isPeering = (s: RunStack): boolean => s.role.startsWith('peering');
  const runsWithPeering = new Set(
    stacks.filter((s) => isPeering(s) && s.status !== 'DELETE_COMPLETE').map((s) => s.runId),
  );
  const due: RunStack[] = [];
  for (const stack of stacks) {
    if (!stack.expired || stack.status === 'DELETE_IN_PROGRESS' || stack.status === 'DELETE_COMPLETE')
      continue;
    if (!isPeering(stack) && runsWithPeering.has(stack.runId)) {
      result.deferred.push({ region: stack.region, stackName: stack.stackName });
      continue;
    }
    due.push(stack);
  }
  const deletions = await Promise.allSettled(
    due.map((stack) => deleteStack(deps.cloudFormation(stack.region), stack.stackName)),
  );
  deletions.forEach((outcome, k) => {
    const { region, stackName } = due[k] as RunStack;
    if (outcome.status === 'fulfilled') result.deleted.push({ region, stackName });
    else result.failed.push({ region, stackName, reason: reasonOf(outcome.reason) });
  });
  return result;
}
