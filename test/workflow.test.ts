/**
 * The real definition (statemachine/feedpath.asl.json) in the local interpreter, path by path. The
 * Task states call the deployed Lambda handlers; the AWS APIs behind them are a stateful fake
 * (test/cloud-fake.ts) that records every stack created and deleted. Each case asserts where the
 * execution ended and that nothing it created is left.
 */
import {
  runWorkflowLocally,
  taskFunctions,
  type LocalTaskHandlers,
  type WorkflowStateEvent,
} from '../cli/workflow';
import { WorkflowErrorName } from '../lib/cloud/errors';
import { REFERENCE_EXPERIMENT } from '../lib/cloud/input';
import { POLL } from '../lib/cloud/limits';
import { sweepExpiredStacks } from '../lib/cloud/sweeper';
import { regionalClient } from '../lib/cloud/clients';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  BUCKET,
  FakeCloud,
  FAST,
  lambdaHandlers,
  useLambdaEnvironment,
  type FakeCloudOptions,
} from './cloud-fake';

let cloud: FakeCloud;

function start(options: Partial<FakeCloudOptions> = {}): FakeCloud {
  cloud = new FakeCloud(options);
  return cloud;
}

/** The handlers, with one Task state made to fail (RunReceiver and RunForwarder share startAgent). */
function failingAt(state: string, error: Error): LocalTaskHandlers {
  const handlers = lambdaHandlers();
  const fn = taskFunctions()[state] as keyof LocalTaskHandlers;
  const original = handlers[fn] as (event: never) => Promise<unknown>;
  const role = state === 'RunReceiver' ? 'receiver' : state === 'RunForwarder' ? 'forwarder' : undefined;
  (handlers as unknown as Record<string, unknown>)[fn] = async (event: { role?: string }) => {
    if (role === undefined || event.role === role) throw error;
    return original(event as never);
  };
  return handlers;
}

function injected(): Error {
  return Object.assign(new Error('injected failure'), { name: 'InjectedFailure' });
}

beforeAll(() => {
  useLambdaEnvironment();
  // The Lambdas log their progress for CloudWatch.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  cloud.restore();
});

describe('workflow', () => {
  it('runs the reference experiment for input {} and deletes every stack it created', async () => {
    start();

    const result = await runWorkflowLocally({}, lambdaHandlers(), { ...FAST, executionName: 'reference' });

    expect({ status: result.status, error: result.error, cause: result.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    expect(result.lastState).toBe('Succeeded');
    expect(cloud.created).toEqual([
      expect.stringMatching(/^eu-central-1\/feedpath-test-run-\d{8}-\d{6}-[a-z0-9]{4}-receiver$/),
      expect.stringMatching(/^ap-northeast-1\/feedpath-test-run-.*-forwarder$/),
      expect.stringMatching(/^ap-northeast-1\/feedpath-test-run-.*-peering$/),
      expect.stringMatching(/^eu-central-1\/feedpath-test-run-.*-peering-routes$/),
    ]);
    expect(cloud.live()).toEqual([]);
    expect([...cloud.deleted].sort()).toEqual([...cloud.created].sort());
    const output = result.output as {
      runId: string;
      prefix: string;
      verdict: string;
      report: { json: string };
    };
    expect(output.verdict).toEqual(expect.any(String));
    expect(cloud.objects.has(`${BUCKET}/${output.report.json}`)).toBe(true);
    const input = JSON.parse(cloud.objects.get(`${BUCKET}/${output.prefix}input.json`)!.toString());
    expect(input).toEqual(REFERENCE_EXPERIMENT);
    expect(cloud.commands.map((c) => c.role)).toEqual(['receiver', 'forwarder']);
  });

  it('keeps the reference experiment that DESIGN.md fixes (spelled out, so a changed default fails)', () => {
    expect(REFERENCE_EXPERIMENT).toEqual({
      durationSeconds: 300,
      streams: ['btcusdt@trade'],
      mode: 'paired',
      forwarderRegion: 'ap-northeast-1',
      receiverRegion: 'eu-central-1',
      instanceType: 'c7i.large',
      label: '',
      exchangeUrl: 'wss://stream.binance.com:9443',
      control: true,
      record: true,
    });
  });

  it('runs baseline mode with one site, no peering and no forwarder', async () => {
    start();

    const result = await runWorkflowLocally(
      { mode: 'baseline', durationSeconds: 60 },
      lambdaHandlers(),
      FAST,
    );

    expect(result.lastState).toBe('Succeeded');
    expect(cloud.created).toEqual([expect.stringMatching(/^eu-central-1\/.*-receiver$/)]);
    expect(result.states).not.toContain('ConnectSites');
    expect(result.states).not.toContain('RunForwarder');
    expect(cloud.live()).toEqual([]);
  });

  it('fails invalid input in PrepareRun, naming the field, with nothing created', async () => {
    start();

    const result = await runWorkflowLocally({ durationSeconds: 5, colour: 'red' }, lambdaHandlers(), FAST);

    expect(result).toMatchObject({
      status: 'FAILED',
      lastState: 'PrepareFailed',
      error: WorkflowErrorName.invalidInput,
    });
    expect(result.cause).toMatch(/durationSeconds/);
    expect(result.cause).toMatch(/colour/);
    expect(result.states).toEqual(['PrepareRoute', 'PrepareRun', 'PrepareFailed']);
    expect(cloud.created).toEqual([]);
    expect(cloud.objects.size).toBe(0);
  });

  it('rejects a region the deployment does not sweep before creating anything', async () => {
    start();

    const result = await runWorkflowLocally({ receiverRegion: 'sa-east-1' }, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'PrepareFailed', error: WorkflowErrorName.invalidInput });
    expect(result.cause).toMatch(/receiverRegion: sa-east-1/);
    expect(cloud.created).toEqual([]);
  });

  const tasksAfterPrepare = Object.keys(taskFunctions()).filter(
    (s) => s !== 'PrepareRun' && s !== 'TeardownRun',
  );
  it.each(tasksAfterPrepare)('tears down and fails with the original cause when %s fails', async (state) => {
    start();

    const result = await runWorkflowLocally({}, failingAt(state, injected()), FAST);

    expect(result).toMatchObject({
      status: 'FAILED',
      lastState: 'Failed',
      error: 'InjectedFailure',
      cause: 'injected failure',
    });
    const failedAt = result.states.indexOf(state);
    expect(failedAt).toBeGreaterThan(0);
    expect(result.states[failedAt + 1]).toBe('TeardownRun');
    expect(cloud.live()).toEqual([]);
  });

  it('fails PrepareRun without teardown when staging the run fails (nothing exists yet)', async () => {
    start();

    const result = await runWorkflowLocally({}, failingAt('PrepareRun', injected()), FAST);

    expect(result).toMatchObject({ lastState: 'PrepareFailed', error: 'InjectedFailure' });
    expect(result.states).not.toContain('TeardownRun');
    expect(cloud.created).toEqual([]);
  });

  it('tears down when a site stack ends CREATE_FAILED, and names the stack and the resource', async () => {
    start({ stackOutcome: { forwarder: 'CREATE_FAILED' } });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.stackFailed });
    expect(result.cause).toMatch(/feedpath-test-run-.*-forwarder \(ap-northeast-1\) is CREATE_FAILED/);
    expect(result.cause).toMatch(/Instance: The requested configuration is currently not supported/);
    expect(cloud.created).toHaveLength(2);
    expect(cloud.live()).toEqual([]);
  });

  it('tears down when a peering stack rolls back', async () => {
    start({ stackOutcome: { 'peering-routes': 'ROLLBACK_COMPLETE' } });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.stackFailed });
    expect(cloud.created).toHaveLength(4);
    expect(cloud.live()).toEqual([]);
  });

  it('gives up when the sites never complete, within the provision budget, and tears down', async () => {
    start({ createPolls: Number.POSITIVE_INFINITY });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.provisionTimedOut });
    expect(result.states.filter((s) => s === 'ProvisionDescribeSites')).toHaveLength(
      POLL.provision.maxPolls + 1,
    );
    expect(cloud.live()).toEqual([]);
  });

  it('gives up when the agents never come online in SSM, and tears down', async () => {
    start({ onlineAfter: Number.POSITIVE_INFINITY });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.agentsOffline });
    expect(result.cause).toMatch(/ConnectionLost/);
    expect(result.states.filter((s) => s === 'ConnectAgents')).toHaveLength(POLL.agentsOnline.maxPolls + 1);
    expect(cloud.commands).toEqual([]);
    expect(cloud.live()).toEqual([]);
  });

  it('tears down when an agent times out, after the other agent finished and uploaded', async () => {
    start({
      commandOutcome: {
        forwarder: {
          status: 'Failed',
          code: 124,
          stderr: 'feedpath: the forwarder agent did not finish within 450 s',
        },
      },
    });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.agentTimedOut });
    expect(result.cause).toMatch(
      /forwarder agent .* timed out: feedpath: the forwarder agent did not finish/,
    );
    expect([...cloud.objects.keys()].some((k) => k.endsWith('/baseline-results.csv'))).toBe(true);
    expect(cloud.live()).toEqual([]);
  });

  it('tears down when SSM reports an agent command failed', async () => {
    start({ commandOutcome: { receiver: { status: 'Failed', code: 2, stderr: 'receiver: FP_BAD_CONFIG' } } });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.agentFailed });
    expect(result.cause).toMatch(/receiver agent .* ended Failed \(exit 2\): receiver: FP_BAD_CONFIG/);
    expect(cloud.live()).toEqual([]);
  });

  it('gives up on agents that never finish, within the run budget, and tears down', async () => {
    start({ commandOutcome: { receiver: { status: 'InProgress' } } });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.runTimedOut });
    expect(cloud.live()).toEqual([]);
  });

  it('tears down when the analysis finds nothing to analyze', async () => {
    start({ uploadRows: 0 });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.analysisFailed });
    expect(result.states[result.states.indexOf('AnalyzeResults') + 1]).toBe('TeardownRun');
    expect(result.cause).toMatch(/analysis of s3:\/\/feedpath-test-results\/runs\/.* failed/);
    expect(cloud.live()).toEqual([]);
  });

  it('retries throttled API calls and still succeeds', async () => {
    start({
      throttleOnce: new Set([
        'CreateStackCommand',
        'SendCommandCommand',
        'GetCommandInvocationCommand',
        'DeleteStackCommand',
      ]),
    });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result.lastState).toBe('Succeeded');
    expect(cloud.commands).toHaveLength(2);
    expect(cloud.created).toHaveLength(4);
    expect(cloud.live()).toEqual([]);
  });

  it('reissues the deletion of a stack that ends DELETE_FAILED', async () => {
    start({ deleteFailsOnce: new Set(['receiver']) });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result.lastState).toBe('Succeeded');
    expect(cloud.stack('receiver')?.failedDeletes).toBe(1);
    expect(cloud.live()).toEqual([]);
  });

  it('fails TeardownFailed, naming the run and its outcome, when teardown itself keeps failing; the sweeper then deletes the stacks', async () => {
    start();

    const result = await runWorkflowLocally({}, failingAt('TeardownRun', injected()), FAST);

    expect(result).toMatchObject({ lastState: 'TeardownFailed', error: WorkflowErrorName.teardownFailed });
    expect(result.cause).toMatch(
      /teardown of run \d{8}-\d{6}-[a-z0-9]{4} failed \(InjectedFailure: injected failure\)/,
    );
    expect(result.cause).toMatch(/the run itself ended with: null/);
    expect(cloud.live()).toHaveLength(4);

    const later = new Date(Date.now() + 3 * 86_400_000);
    const sweep = {
      cloudFormation: regionalClient((region) => new CloudFormationClient({ region })),
      regions: ['ap-northeast-1', 'eu-central-1'],
      stage: 'test',
      now: () => later,
    };
    const first = await sweepExpiredStacks(sweep);
    expect(first.deleted.map((s) => s.stackName)).toEqual([
      expect.stringMatching(/-peering$/),
      expect.stringMatching(/-peering-routes$/),
    ]);
    expect(first.deferred).toHaveLength(2);
  });

  it('deletes every other stack when one refuses, and names the refused one and why', async () => {
    start({ deleteRefused: new Set(['receiver']) });

    const result = await runWorkflowLocally({}, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'TeardownFailed', error: WorkflowErrorName.teardownFailed });
    expect(result.cause).toMatch(
      /refused to delete 1 stack\(s\): feedpath-test-run-.*-receiver \(eu-central-1\): AccessDenied/,
    );
    // The forwarder's site and both peering stacks are gone: only the refused stack is left.
    expect(cloud.live()).toEqual([expect.stringMatching(/^eu-central-1\/feedpath-test-run-.*-receiver$/)]);
  });

  it('sweeps the other regions and stacks when one region cannot be listed and one stack refuses', async () => {
    start({ deleteRefused: new Set(['receiver']), listRefused: new Set(['us-east-2']) });
    await runWorkflowLocally({}, failingAt('TeardownRun', injected()), FAST);
    const sweep = {
      cloudFormation: regionalClient((region) => new CloudFormationClient({ region })),
      regions: ['us-east-2', 'ap-northeast-1', 'eu-central-1'],
      stage: 'test',
      now: () => new Date(Date.now() + 3 * 86_400_000),
    };

    await sweepExpiredStacks(sweep); // the peering first
    for (const stack of [...cloud.stacks.values()].filter((s) => s.part.startsWith('peering'))) {
      const client = new CloudFormationClient({ region: stack.region });
      for (let poll = 0; poll < 2; poll++)
        await client.send(new DescribeStacksCommand({ StackName: stack.name })).catch(() => undefined);
    }
    const second = await sweepExpiredStacks(sweep);

    expect(second.failed).toEqual([
      { region: 'us-east-2', reason: expect.stringMatching(/^InvalidClientTokenId/) },
      {
        region: 'eu-central-1',
        stackName: expect.stringMatching(/-receiver$/),
        reason: expect.stringMatching(/^AccessDenied/),
      },
    ]);
    expect(second.deleted).toEqual([
      { region: 'ap-northeast-1', stackName: expect.stringMatching(/-forwarder$/) },
    ]);
  });

  it('gives up on a stack that is never deleted, failing TeardownFailed with the stacks left', async () => {
    start({ deletePolls: Number.POSITIVE_INFINITY });

    const result = await runWorkflowLocally({ mode: 'baseline' }, lambdaHandlers(), FAST);

    expect(result).toMatchObject({ lastState: 'TeardownFailed', error: WorkflowErrorName.teardownFailed });
    expect(result.cause).toMatch(/not deleted after 90 polls .*\["feedpath-test-run-.*-receiver"\]/);
  });

  it('reports each state as it is entered, with its lifecycle stage', async () => {
    start();
    const events: WorkflowStateEvent[] = [];

    await runWorkflowLocally({ mode: 'baseline' }, lambdaHandlers(), {
      ...FAST,
      onStateEvent: (e) => events.push(e),
    });

    const entered = events.filter((e) => e.type === 'entered');
    expect(entered[0]).toMatchObject({ state: 'PrepareRoute', stage: 'Prepare' });
    expect([...new Set(entered.map((e) => e.stage))]).toEqual([
      'Prepare',
      'Provision',
      'Connect',
      'Run',
      'Analyze',
      'Teardown',
      'outcome',
    ]);
  });

  it('stops where it is when aborted (the caller cleans up)', async () => {
    start({ onlineAfter: Number.POSITIVE_INFINITY });
    const controller = new AbortController();

    const result = await runWorkflowLocally({}, lambdaHandlers(), {
      pollWaitMs: 5,
      signal: controller.signal,
      onStateEvent: (e) => {
        if (e.state === 'ConnectAgentsWait') controller.abort();
      },
    });

    expect(result).toMatchObject({ status: 'ABORTED', lastState: 'ConnectAgentsWait' });
  });

  it('runs two executions at once without collisions', async () => {
    start();

    const [a, b] = await Promise.all([
      runWorkflowLocally({ label: 'a' }, lambdaHandlers(), { ...FAST, executionName: 'a' }),
      runWorkflowLocally({ label: 'b' }, lambdaHandlers(), { ...FAST, executionName: 'b' }),
    ]);

    expect([a.lastState, b.lastState]).toEqual(['Succeeded', 'Succeeded']);
    expect(new Set(cloud.created).size).toBe(8);
    expect((a.output as { runId: string }).runId).not.toBe((b.output as { runId: string }).runId);
    expect(cloud.live()).toEqual([]);
  });
});
