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
import { TeardownFailedError } from './errors';
import { teardownLayers, type StackRef } from './run';
import { deleteStack, describeStack } from './stacks';

export interface TeardownDeps {
  cloudFormation: RegionalClient<CloudFormationClient>;
}

/** A stack CloudFormation would not describe or delete, and why. */
interface Refusal {
  stack: StackRef;
  reason: string;
}

/** Describes one stack and (re)issues its deletion unless it is gone or already being deleted. */
async function advanceDeletion(deps: TeardownDeps, stack: StackRef): Promise<'gone' | 'deleting'> {
  const client = deps.cloudFormation(stack.region);
  const view = await describeStack(client, stack.stackName);
  if (view.phase === 'gone') return 'gone';
  // DELETE_IN_PROGRESS needs no new request; anything else (also DELETE_FAILED) gets one.
  if (view.phase !== 'deleting') await deleteStack(client, stack.stackName);
  return 'deleting';
}

/**
 * TeardownRun: one step of deleting the run's stacks. Every stack of the current layer is asked,
 * even when another one refuses (termination protection, AccessDenied, throttling): a refusal
 * must not keep the others, and their instances, alive. The refusals are raised together after
 * that, naming each stack and its reason, so the workflow retries and finally reports them all.
 */
export async function teardownRun({ run }: RunEvent, deps: TeardownDeps): Promise<TeardownResult> {
  const layers = teardownLayers(run);
  const deleted: string[] = [];
  for (const [index, layer] of layers.entries()) {
    const outcomes = await Promise.allSettled(layer.map((stack) => advanceDeletion(deps, stack)));
    const left: StackRef[] = [];
    const refused: Refusal[] = [];
    outcomes.forEach((outcome, k) => {
      const stack = layer[k] as StackRef;
      if (outcome.status === 'rejected') {
        left.push(stack);
        refused.push({ stack, reason: describeRefusal(outcome.reason) });
      } else if (outcome.value === 'gone') {
        deleted.push(stack.stackName);
      } else {
        left.push(stack);
      }
    });
    const later = layers.slice(index + 1).flat();
    if (refused.length > 0) {
      const list = refused.map((r) => `${r.stack.stackName} (${r.stack.region}): ${r.reason}`).join('; ');
      const waiting = [...left, ...later].filter((s) => !refused.some((r) => r.stack === s));
      throw new TeardownFailedError(
        `run ${run.runId}: CloudFormation refused to delete ${refused.length} stack(s): ${list}` +
          (waiting.length > 0 ? `; also left: ${waiting.map((s) => s.stackName).join(', ')}` : ''),
      );
    }
    if (left.length > 0) {
      return { done: false, remaining: [...left, ...later].map((s) => s.stackName), deleted };
    }
  }
  return { done: true, remaining: [], deleted };
}

function describeRefusal(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
