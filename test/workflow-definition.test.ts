/**
 * The definition's static contract: valid ASL, lifecycle names, error names shared with the code,
 * the polling budget of lib/cloud/limits.ts, and the rule that no path after the first created
 * resource reaches an end without passing through teardown.
 */
import aslValidator from 'asl-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIFECYCLE_STAGES, taskFunctions, type LocalTaskHandlers } from '../cli/workflow';
import { TRANSIENT_ERRORS, WorkflowErrorName } from '../lib/cloud/errors';
import {
  ANALYZE_TIMEOUT_SECONDS,
  POLL,
  TASK_TIMEOUT_SECONDS,
  workflowTimeoutSeconds,
} from '../lib/cloud/limits';

interface State {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next: string; Variable?: string; NumericLessThan?: number }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Parameters?: Record<string, unknown>;
  Seconds?: number;
  TimeoutSeconds?: number;
  ErrorPath?: string;
}

const text = readFileSync(join(__dirname, '..', 'statemachine', 'feedpath.asl.json'), 'utf8');
const definition = JSON.parse(text) as {
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, State>;
};
const states = definition.States;

function successors(state: State): string[] {
  return [
    ...(state.Next !== undefined ? [state.Next] : []),
    ...(state.Default !== undefined ? [state.Default] : []),
    ...(state.Choices ?? []).map((c) => c.Next),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
}

/** States reachable from `from` without entering `avoid`. */
function reachable(from: string, avoid: string): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (seen.has(name) || name === avoid) continue;
    seen.add(name);
    queue.push(...successors(states[name] as State));
  }
  return seen;
}

const isEnd = (name: string): boolean => ['Fail', 'Succeed'].includes((states[name] as State).Type);

describe('workflow definition', () => {
  it('is valid Amazon States Language', () => {
    const { isValid, errorsText } = aslValidator(JSON.parse(text), { checkArn: true, checkPaths: true });

    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('uses JSONPath only: no JSONata, no variables (the local interpreter runs it too)', () => {
    expect(text).not.toMatch(/JSONata|\{%|"Assign"|"Arguments"|"Output"/);
    // serverless-step-functions passes the definition through Fn::Sub: no `${` may appear in it.
    expect(text).not.toContain('${');
  });

  it('names every state after its lifecycle step, except the two outcomes', () => {
    const unnamed = Object.keys(states).filter(
      (name) => !LIFECYCLE_STAGES.some((stage) => name.startsWith(stage)),
    );

    expect(unnamed.sort()).toEqual(['Failed', 'Succeeded']);
  });

  it('sends every path from ProvisionSites on through TeardownRun before it ends', () => {
    const ends = [...reachable('ProvisionSites', 'TeardownRun')].filter(isEnd);

    expect(ends).toEqual([]);
  });

  it('can end before teardown only in PrepareFailed, before anything exists', () => {
    const ends = [...reachable('PrepareRun', 'ProvisionSites')].filter(isEnd);

    expect(ends).toEqual(['PrepareFailed']);
  });

  it('routes an input with teardownOf straight to teardown, and any other input to PrepareRun', () => {
    const route = states[definition.StartAt] as unknown as {
      Choices: { Variable: string; IsPresent: boolean; Next: string }[];
      Default: string;
    };

    expect(route.Choices).toEqual([{ Variable: '$.teardownOf', IsPresent: true, Next: 'TeardownOnly' }]);
    expect(route.Default).toBe('PrepareRun');
    expect([...reachable('TeardownOnly', 'TeardownRun')].filter(isEnd)).toEqual([]);
  });

  it('catches every error of every Task after PrepareRun into teardown', () => {
    const tasks = Object.entries(states).filter(
      ([name, s]) => s.Type === 'Task' && name !== 'PrepareRun' && name !== 'TeardownRun',
    );

    for (const [, state] of tasks) {
      expect(state.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'TeardownRun' },
      ]);
      expect(state.Retry?.[0]?.ErrorEquals).toEqual([...TRANSIENT_ERRORS]);
    }
    expect(tasks.length).toBeGreaterThanOrEqual(8);
  });

  it('retries teardown on any error and fails TeardownFailed when it cannot finish', () => {
    const teardown = states.TeardownRun as State;

    expect(teardown.Retry?.[0]?.ErrorEquals).toEqual(['States.ALL']);
    expect(successors(teardown).sort()).toEqual(['TeardownCheck', 'TeardownErrored']);
    expect(states.TeardownErrored?.Parameters?.Error).toBe(WorkflowErrorName.teardownFailed);
    expect(states.TeardownTimedOut?.Parameters?.Error).toBe(WorkflowErrorName.teardownFailed);
  });

  it('uses only error names the code exports', () => {
    const known = new Set<string>([...Object.values(WorkflowErrorName), ...TRANSIENT_ERRORS, 'States.ALL']);
    const used = Object.values(states).flatMap((s) => [
      ...(s.Retry ?? []).flatMap((r) => r.ErrorEquals),
      ...(s.Catch ?? []).flatMap((c) => c.ErrorEquals),
      ...(typeof s.Parameters?.Error === 'string' ? [s.Parameters.Error] : []),
    ]);

    expect(used.filter((name) => !known.has(name))).toEqual([]);
  });

  it('bounds every polling loop as lib/cloud/limits.ts says', () => {
    const loops = {
      provision: { check: 'ProvisionCheck', wait: 'ProvisionWait', task: 'ProvisionDescribeSites' },
      connect: { check: 'ConnectCheck', wait: 'ConnectWait', task: 'ConnectSites' },
      agentsOnline: { check: 'ConnectAgentsCheck', wait: 'ConnectAgentsWait', task: 'ConnectAgents' },
      run: { check: 'RunCheckAgents', wait: 'RunWait', task: 'RunPollAgents' },
      teardown: { check: 'TeardownCheck', wait: 'TeardownWait', task: 'TeardownRun' },
    } as const;

    for (const [loop, names] of Object.entries(loops)) {
      const limit = POLL[loop as keyof typeof POLL];
      const bound = states[names.check]?.Choices?.find((c) => c.Variable === `$.polls.${loop}.count`);
      expect({
        loop,
        bound: bound?.NumericLessThan,
        wait: states[names.wait]?.Seconds,
        timeout: states[names.task]?.TimeoutSeconds,
      }).toEqual({
        loop,
        bound: limit.maxPolls,
        wait: limit.waitSeconds,
        timeout: limit.taskTimeoutSeconds,
      });
    }
    for (const name of ['PrepareRun', 'ProvisionSites', 'RunReceiver', 'RunForwarder']) {
      expect(states[name]?.TimeoutSeconds).toBe(TASK_TIMEOUT_SECONDS);
    }
    expect(states.AnalyzeResults?.TimeoutSeconds).toBe(ANALYZE_TIMEOUT_SECONDS);
  });

  it('times the whole execution out only after the longest run and every loop at its bound', () => {
    expect(definition.TimeoutSeconds).toBe(workflowTimeoutSeconds());
  });

  it('invokes exactly the Lambda functions the local runner has handlers for', () => {
    const handlers: Record<keyof LocalTaskHandlers, true> = {
      prepare: true,
      provisionSites: true,
      describeSites: true,
      connectSites: true,
      connectAgents: true,
      startAgent: true,
      pollAgents: true,
      analyze: true,
      teardown: true,
    };

    expect(new Set(Object.values(taskFunctions()))).toEqual(new Set(Object.keys(handlers)));
  });
});
