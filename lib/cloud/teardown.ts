/**
 * Teardown: deletes every stack of the run, layer by layer (peering before the sites, whose route
 * tables and VPCs it references), and reports `done` only when CloudFormation no longer knows any
 * of them. Each call advances: it (re)issues DeleteStack for what still exists in the current layer,
 * so a DELETE_FAILED stack is retried on the next poll. Stack names come from the plan, so teardown
 * works whatever provisioning got to.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { RegionalClient } from './clients';
import type { RunEvent, TeardownResult } from './contract';
import { teardownLayers, type StackRef } from './run';
import { deleteStack, describeStack } from './stacks';

export interface TeardownDeps {
  cloudFormation: RegionalClient<CloudFormationClient>;
}

/** TeardownRun: one step of deleting the run's stacks. */
export async function teardownRun({ run }: RunEvent, deps: TeardownDeps): Promise<TeardownResult> {
  const layers = teardownLayers(run);
  const deleted: string[] = [];
  for (const [index, layer] of layers.entries()) {
    const views = await Promise.all(
      layer.map(async (stack) => ({
        stack,
        view: await describeStack(deps.cloudFormation(stack.region), stack.stackName),
      })),
    );
    const left: StackRef[] = [];
    for (const { stack, view } of views) {
      if (view.phase === 'gone') {
        deleted.push(stack.stackName);
        continue;
      }
      left.push(stack);
      // DELETE_IN_PROGRESS needs no new request; anything else (also DELETE_FAILED) gets one.
      if (view.phase !== 'deleting') await deleteStack(deps.cloudFormation(stack.region), stack.stackName);
    }
    if (left.length > 0) {
      const later = layers.slice(index + 1).flat();
      return { done: false, remaining: [...left, ...later].map((s) => s.stackName), deleted };
    }
  }
  return { done: true, remaining: [], deleted };
}
