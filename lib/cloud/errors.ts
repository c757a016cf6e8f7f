/**
 * Error names of the workflow: part of its contract. A Lambda that throws one of these classes
 * fails its Task with `Error` = the name (Lambda reports `error.name` as the errorType), and the
 * ASL's Retry/Catch match on it. The names the ASL sets itself (the *TimedOut Pass states) are here
 * too, so the definition, the code and the tests share one list.
 */
export const WorkflowErrorName = {
  /** The execution input is invalid; raised by PrepareRun before anything is created. */
  invalidInput: 'InvalidInput',
  /** A stack ended in a failed state (CREATE_FAILED, ROLLBACK_*, …) or disappeared. */
  stackFailed: 'StackFailed',
  /** An AWS API kept throttling after the SDK's own retries; the ASL retries the Task. */
  throttled: 'CloudThrottled',
  /** An agent's command failed, was cancelled, or the instance could not run it. */
  agentFailed: 'AgentFailed',
  /** An agent's command hit its execution timeout. */
  agentTimedOut: 'AgentTimedOut',
  /** The analysis could not produce a report. */
  analysisFailed: 'AnalysisFailed',
  /** Set by the ASL when the site stacks are not complete within their polling budget. */
  provisionTimedOut: 'ProvisionTimedOut',
  /** Set by the ASL when the peering stacks are not complete within their polling budget. */
  connectTimedOut: 'ConnectTimedOut',
  /** Set by the ASL when the instances are not online in SSM within their polling budget. */
  agentsOffline: 'AgentsOffline',
  /** Set by the ASL when the agents' commands have not finished within their polling budget. */
  runTimedOut: 'RunTimedOut',
  /** A Lambda got an event that does not match its schema: the ASL and the code disagree. */
  taskInput: 'InvalidTaskInput',
  /** Teardown could not verify that every stack of the run was deleted (the sweeper will retry). */
  teardownFailed: 'TeardownFailed',
} as const;
export type WorkflowErrorName = (typeof WorkflowErrorName)[keyof typeof WorkflowErrorName];

/**
 * Errors of the Lambda service itself, which Step Functions recommends retrying for every
 * `lambda:invoke` Task, plus our own throttling error.
 */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  WorkflowErrorName.throttled,
] as const;

/** The base of every error a workflow Task raises on purpose. */
export class WorkflowError extends Error {
  override name: WorkflowErrorName;
  constructor(name: WorkflowErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

/**
 * The base of one condition's error: `new StackFailedError(message, cause?)` carries the condition's
 * name, so a class per condition is one line and every one of them keeps its cause.
 */
function conditionError(name: WorkflowErrorName): new (message: string, cause?: unknown) => WorkflowError {
  return class extends WorkflowError {
    constructor(message: string, cause?: unknown) {
      super(name, message, cause === undefined ? undefined : { cause });
    }
  };
}

export class InvalidInputError extends conditionError(WorkflowErrorName.invalidInput) {}
export class StackFailedError extends conditionError(WorkflowErrorName.stackFailed) {}
export class CloudThrottledError extends conditionError(WorkflowErrorName.throttled) {}
export class AgentFailedError extends conditionError(WorkflowErrorName.agentFailed) {}
export class AgentTimedOutError extends conditionError(WorkflowErrorName.agentTimedOut) {}
export class AnalysisFailedError extends conditionError(WorkflowErrorName.analysisFailed) {}
export class TeardownFailedError extends conditionError(WorkflowErrorName.teardownFailed) {}

const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

/** True for an AWS SDK error that means "slow down" (after the SDK's own retries gave up). */
export function isThrottling(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $retryable?: { throttling?: boolean } };
  return (typeof e.name === 'string' && THROTTLING_NAMES.has(e.name)) || e.$retryable?.throttling === true;
}
