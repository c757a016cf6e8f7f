/**
 * Runs the workflow's own definition (statemachine/feedpath.asl.json, the file deployed to Step
 * Functions) on this machine with aws-local-stepfunctions. Each Task state invokes a Lambda through
 * `arn:aws:states:::lambda:invoke` with `FunctionName: {"Fn::GetAtt": [<function>, "Arn"]}`; here the
 * function's key selects the method of {@link LocalTaskHandlers} that stands in for it, with the same
 * event and result shapes (lib/cloud/contract.ts). `feedpath run` supplies handlers backed by local
 * processes; the workflow tests supply the real Lambda handlers over a fake cloud.
 */
import '../lib/shims';
import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { randomUUID } from 'node:crypto';
import definitionJson from '../statemachine/feedpath.asl.json';
import type {
  AgentCommand,
  AnalyzeResult,
  ConnectAgentsResult,
  ConnectSitesResult,
  DescribeSitesResult,
  PollAgentsEvent,
  PollAgentsResult,
  PrepareEvent,
  ProvisionSitesResult,
  RunEvent,
  SitesEvent,
  StartAgentEvent,
  TeardownResult,
} from '../lib/cloud/contract';
import type { RunPlan } from '../lib/cloud/run';

/** One method per Lambda function of the workflow (the keys serverless.yml gives them). */
export interface LocalTaskHandlers {
  /** PrepareRun: validate the input (throw InvalidInputError), plan the run, stage its files. */
  prepare(event: PrepareEvent): Promise<RunPlan>;
  /** ProvisionSites: start creating a site per role. */
  provisionSites(event: RunEvent): Promise<ProvisionSitesResult>;
  /** ProvisionDescribeSites: `ready` once every site is up (throw StackFailedError when one failed). */
  describeSites(event: RunEvent): Promise<DescribeSitesResult>;
  /** ConnectSites: one step of linking the sites; `connected` when done. */
  connectSites(event: SitesEvent): Promise<ConnectSitesResult>;
  /** ConnectAgents: `online` when every site can run an agent. */
  connectAgents(event: SitesEvent): Promise<ConnectAgentsResult>;
  /** RunReceiver / RunForwarder: start the role's agent. */
  startAgent(event: StartAgentEvent): Promise<AgentCommand>;
  /** RunPollAgents: `done` when every agent has finished (throw AgentFailedError / AgentTimedOutError). */
  pollAgents(event: PollAgentsEvent): Promise<PollAgentsResult>;
  /** AnalyzeResults: summaries and report under the run's prefix. */
  analyze(event: RunEvent): Promise<AnalyzeResult>;
  /** TeardownRun: one step of deleting everything; `done` when nothing is left. */
  teardown(event: RunEvent): Promise<TeardownResult>;
}

export type LocalFunctionName = keyof LocalTaskHandlers;

/** The lifecycle step a state belongs to (its name's first word); the two outcomes are `outcome`. */
export const LIFECYCLE_STAGES = ['Prepare', 'Provision', 'Connect', 'Run', 'Analyze', 'Teardown'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number] | 'outcome';

export function lifecycleStage(stateName: string): LifecycleStage {
  return LIFECYCLE_STAGES.find((stage) => stateName.startsWith(stage)) ?? 'outcome';
}

export interface WorkflowStateEvent {
  type: 'entered' | 'exited' | 'failed' | 'retried' | 'caught';
  state: string;
  stage: LifecycleStage;
  at: Date;
  /** failed: the error name and its cause. */
  error?: string;
  cause?: string;
}

export interface LocalWorkflowOptions {
  /** Every polling Wait state (all but RunExperiment) lasts this long, ms; default: as defined. */
  pollWaitMs?: number;
  /** RunExperiment lasts this long, ms; default: the run's duration, as in AWS. */
  runWaitMs?: number;
  /** Every Retry pause lasts this long, ms; default: as defined. */
  retryIntervalMs?: number;
  /** Progress: every state entered, exited, failed, retried or caught. */
  onStateEvent?: (event: WorkflowStateEvent) => void;
  /** The execution's name (`$$.Execution.Name`); default: a random UUID. */
  executionName?: string;
  /** Aborting stops the interpreter where it is: no teardown runs (the caller cleans up). */
  signal?: AbortSignal;
}

export interface LocalWorkflowResult {
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  /** The execution's output (SUCCEEDED): the AnalyzeResults result. */
  output?: unknown;
  /** FAILED: the Fail state's error and cause. */
  error?: string;
  cause?: string;
  /** The last state entered: where the execution ended. */
  lastState: string;
  /** Every state entered, in order. */
  states: string[];
}

type AslState = {
  Type: string;
  Parameters?: { FunctionName?: { 'Fn::GetAtt'?: [string, string] } };
};

/** The definition as deployed (a fresh copy). */
export function workflowDefinition(): StateMachineDefinition {
  // Not structuredClone: under jest its objects come from another realm, and the interpreter's
  // plain-object test then skips nested Parameters templates.
  return JSON.parse(JSON.stringify(definitionJson)) as StateMachineDefinition;
}

/** Task state name → the Lambda function (LocalTaskHandlers method) it invokes. */
export function taskFunctions(definition = workflowDefinition()): Record<string, string> {
  const functions: Record<string, string> = {};
  for (const [name, state] of Object.entries(definition.States as unknown as Record<string, AslState>)) {
    if (state.Type !== 'Task') continue;
    const fn = state.Parameters?.FunctionName?.['Fn::GetAtt']?.[0];
    if (fn === undefined) throw new Error(`Task state ${name} does not name its Lambda with Fn::GetAtt`);
    functions[name] = fn;
  }
  return functions;
}

/** Wait state names, except the run's own duration. */
export function pollingWaitStates(definition = workflowDefinition()): string[] {
  return Object.entries(definition.States)
    .filter(([name, state]) => state.Type === 'Wait' && name !== 'RunExperiment')
    .map(([name]) => name);
}

/** Runs the workflow definition locally; resolves with how it ended (it does not throw for a failed run). */
export async function runWorkflowLocally(
  input: unknown,
  handlers: LocalTaskHandlers,
  options: LocalWorkflowOptions = {},
): Promise<LocalWorkflowResult> {
  const definition = workflowDefinition();
  type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
  const taskResourceLocalHandlers: LocalHandlers = {};
  for (const [state, fn] of Object.entries(taskFunctions(definition))) {
    const method = handlers[fn as LocalFunctionName] as ((event: unknown) => Promise<unknown>) | undefined;
    if (typeof method !== 'function') throw new Error(`no local handler "${fn}" for the Task state ${state}`);
    // lambda:invoke wraps the function's result in Payload; the ASL's ResultSelector unwraps it.
    taskResourceLocalHandlers[state] = async (params) => ({
      Payload: (await method.call(handlers, (params as { Payload: unknown }).Payload)) as never,
    });
  }
  const waitTimeOverrides: Record<string, number> = {};
  if (options.pollWaitMs !== undefined) {
    for (const state of pollingWaitStates(definition)) waitTimeOverrides[state] = options.pollWaitMs;
  }
  if (options.runWaitMs !== undefined) waitTimeOverrides.RunExperiment = options.runWaitMs;
  const retryIntervalOverrides: Record<string, number> = {};
  if (options.retryIntervalMs !== undefined) {
    for (const [name, state] of Object.entries(definition.States)) {
      if ('Retry' in state && state.Retry !== undefined)
        retryIntervalOverrides[name] = options.retryIntervalMs;
    }
  }

  const name = options.executionName ?? randomUUID();
  const machine = new StateMachine(definition);
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: { Id: `arn:aws:states:local:000000000000:execution:feedpath:${name}`, Name: name },
    },
  });
  const onAbort = (): void => execution.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const states: string[] = [];
  let failure: { error: string; cause: string } | undefined;
  const emit = (
    type: WorkflowStateEvent['type'],
    state: string,
    extra: Partial<WorkflowStateEvent> = {},
  ): void => options.onStateEvent?.({ type, state, stage: lifecycleStage(state), at: new Date(), ...extra });
  const follow = (async () => {
    for await (const event of execution.eventLogs) {
      switch (event.type) {
        case 'StateEntered':
          states.push(event.state.name);
          emit('entered', event.state.name);
          break;
        case 'StateExited':
          emit('exited', event.state.name);
          break;
        case 'StateFailed':
          emit('failed', event.state.name, { error: event.Error, cause: String(event.Cause) });
          break;
        case 'StateRetried':
          emit('retried', event.state.name);
          break;
        case 'StateCaught':
          emit('caught', event.state.name);
          break;
        case 'ExecutionFailed':
          failure = { error: event.Error, cause: String(event.Cause) };
          break;
        default:
          break;
      }
    }
  })();

  let result: Omit<LocalWorkflowResult, 'lastState' | 'states'>;
  try {
    result = { status: 'SUCCEEDED', output: await execution.result };
  } catch (error) {
    const kind = (error as Error).name;
    if (kind === 'ExecutionTimeoutError') result = { status: 'TIMED_OUT' };
    else if (kind === 'ExecutionAbortedError') result = { status: 'ABORTED' };
    else result = { status: 'FAILED' };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  await follow;
  if (result.status === 'FAILED' && failure !== undefined) result = { ...result, ...failure };
  return { ...result, lastState: states.at(-1) ?? '', states };
}
