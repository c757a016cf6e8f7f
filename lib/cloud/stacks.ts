/** CloudFormation steps shared by the site, peering, teardown and sweeper cores. */
import {
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type CloudFormationClient,
  type Parameter,
  type Tag,
} from '@aws-sdk/client-cloudformation';
import { CloudThrottledError, isThrottling, StackFailedError } from './errors';

/** How a stack's status reads to the workflow. */
export type StackPhase = 'pending' | 'complete' | 'failed' | 'deleting' | 'gone';

export interface StackView {
  stackName: string;
  status: string;
  phase: StackPhase;
  reason?: string;
  outputs: Record<string, string>;
}

/** CloudFormation gives up on a stack that takes longer (our polling gives up sooner). */
export const STACK_CREATE_TIMEOUT_MINUTES = 30;

/** What a status means for a stack this workflow is creating or deleting. */
export function stackPhase(status: string): StackPhase {
  if (status === 'CREATE_COMPLETE') return 'complete';
  if (status === 'CREATE_IN_PROGRESS' || status === 'REVIEW_IN_PROGRESS') return 'pending';
  if (status === 'DELETE_COMPLETE') return 'gone';
  if (status === 'DELETE_IN_PROGRESS') return 'deleting';
  return 'failed';
}

function isMissingStack(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e.name === 'ValidationError' && typeof e.message === 'string' && /does not exist/.test(e.message);
}

/** Rethrows an SDK error, as {@link CloudThrottledError} when it is throttling (the ASL retries that). */
export function rethrowCloudError(error: unknown, what: string): never {
  if (isThrottling(error)) {
    throw new CloudThrottledError(`${what}: throttled (${(error as Error).message})`, error);
  }
  throw error;
}

/** The stack, or a `gone` view when CloudFormation no longer knows the name. */
export async function describeStack(client: CloudFormationClient, stackName: string): Promise<StackView> {
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    if (stack === undefined) return { stackName, status: 'DELETE_COMPLETE', phase: 'gone', outputs: {} };
    const outputs: Record<string, string> = {};
    for (const output of stack.Outputs ?? []) {
      if (output.OutputKey !== undefined && output.OutputValue !== undefined)
        outputs[output.OutputKey] = output.OutputValue;
    }
    const status = stack.StackStatus ?? 'UNKNOWN';
    return {
      stackName,
      status,
      phase: stackPhase(status),
      ...(stack.StackStatusReason !== undefined ? { reason: stack.StackStatusReason } : {}),
      outputs,
    };
  } catch (error) {
    if (isMissingStack(error)) return { stackName, status: 'DELETE_COMPLETE', phase: 'gone', outputs: {} };
    return rethrowCloudError(error, `describe stack ${stackName}`);
  }
}

export interface CreateStackRequest {
  stackName: string;
  templateBody: string;
  parameters: Record<string, string>;
  tags: Tag[];
  /** The role CloudFormation acts with (the Lambda itself cannot create VPCs or instances). */
  roleArn: string;
  /** Same token on a retried request: CloudFormation does not create the stack twice. */
  clientRequestToken: string;
}

/** Starts creating a stack; a stack that already exists (a retried Task) is not an error. */
export async function createStack(client: CloudFormationClient, request: CreateStackRequest): Promise<void> {
  const parameters: Parameter[] = Object.entries(request.parameters).map(
    ([ParameterKey, ParameterValue]) => ({
      ParameterKey,
      ParameterValue,
    }),
  );
  try {
    await client.send(
      new CreateStackCommand({
        StackName: request.stackName,
        TemplateBody: request.templateBody,
        Parameters: parameters,
        Tags: request.tags,
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        RoleARN: request.roleArn,
        TimeoutInMinutes: STACK_CREATE_TIMEOUT_MINUTES,
        ClientRequestToken: request.clientRequestToken,
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name === 'AlreadyExistsException') return;
    rethrowCloudError(error, `create stack ${request.stackName}`);
  }
}

/** Starts deleting a stack (also one that is still being created, or whose deletion failed). */
export async function deleteStack(client: CloudFormationClient, stackName: string): Promise<void> {
  try {
    await client.send(new DeleteStackCommand({ StackName: stackName }));
  } catch (error) {
    rethrowCloudError(error, `delete stack ${stackName}`);
  }
}

/** The first resource failure of a stack, for a cause a person can act on; best effort. */
async function firstFailure(client: CloudFormationClient, stackName: string): Promise<string | undefined> {
  try {
    const { StackEvents } = await client.send(new DescribeStackEventsCommand({ StackName: stackName }));
    const failed = (StackEvents ?? [])
      .filter(
        (event) => event.ResourceStatus?.endsWith('_FAILED') && event.ResourceStatusReason !== undefined,
      )
      .at(-1); // events are newest first: the last failure listed happened first
    return failed ? `${failed.LogicalResourceId ?? '?'}: ${failed.ResourceStatusReason}` : undefined;
  } catch {
    return undefined;
  }
}

/** Throws {@link StackFailedError} naming the stack, its status and the first resource failure. */
export async function failStack(
  client: CloudFormationClient,
  view: StackView,
  region: string,
): Promise<never> {
  const detail = view.phase === 'gone' ? undefined : await firstFailure(client, view.stackName);
  const parts = [`stack ${view.stackName} (${region}) is ${view.status}`];
  if (view.reason !== undefined) parts.push(view.reason);
  if (detail !== undefined) parts.push(detail);
  throw new StackFailedError(parts.join(': '));
}
