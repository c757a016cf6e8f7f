/**
 * The workflow against moto, an AWS emulator we did not write: the real definition in the local
 * interpreter, the real Lambda handlers, their SDK clients pointed (AWS_ENDPOINT_URL) at a
 * `moto_server` on loopback behind a small proxy (test/moto-shim.ts) that answers what moto lacks
 * and injects faults. Each case asserts where the execution ended and which stacks are left.
 */
import { CloudFormationClient, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { GetRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runWorkflowLocally, type LocalTaskHandlers } from '../cli/workflow';
import { WorkflowErrorName } from '../lib/cloud/errors';
import { lambdaCloud } from '../lib/cloud/lambda';
import { POLL } from '../lib/cloud/limits';
import type { RunEvent } from '../lib/cloud/contract';
import { sweepExpiredStacks } from '../lib/cloud/sweeper';
import { lambdaHandlers, TEST_ENV } from './cloud-fake';
import { BUCKET, FAST, MotoRun, REGION, STACK_ROLE, useMotoRun } from './moto-run';
import { motoAvailable } from './moto-shim';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { handler as prepare } from '../functions/prepare';
import { handler as provisionSites } from '../functions/provision-sites';
import { handler as recordExecution } from '../functions/record-execution';
import { historyKey, parseHistoryRecord } from '../lib/history';
import { projectRoot } from '../lib/project-files';
import { runFileSchema } from '../lib/run-file';
import { loadPriceTable, PRICES_FILE, type RunCost } from '../lib/cloud/cost';

const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Parameters<typeof prepare>[1];

/** Both sites in one region: moto ignores PeerRegion, so a peering across regions cannot work there. */
const PAIRED_HERE = { mode: 'paired', forwarderRegion: REGION, receiverRegion: REGION, durationSeconds: 60 };
const BASELINE = { mode: 'baseline', durationSeconds: 60 };

const available = motoAvailable();
if (!available) console.log('moto.test.ts skipped: moto_server is not on PATH (pip install "moto[server]")');
const describeMoto = available ? describe : describe.skip;

const moto = new MotoRun();

/** IAM roles besides the deployment's own (a run's instance roles). */
async function runRoles(): Promise<string[]> {
  const iam = moto.client(IAMClient, 'us-east-1');
  const { Roles } = await iam.send(new ListRolesCommand({}));
  iam.destroy();
  return (Roles ?? []).map((r) => r.RoleName ?? '').filter((name) => name !== STACK_ROLE);
}

/** Neither stacks, nor instances, nor instance roles of a run are left. */
async function expectNothingLeft(): Promise<void> {
  expect({
    stacks: await moto.stacksLeft(),
    instances: await moto.instancesRunning(),
    roles: await runRoles(),
  }).toEqual({
    stacks: [],
    instances: [],
    roles: [],
  });
}

/** The Lambda handlers, with `before` run ahead of the named one (a fault injected into a Task state). */
function withBefore<K extends keyof LocalTaskHandlers>(
  fn: K,
  before: (event: Parameters<LocalTaskHandlers[K]>[0]) => Promise<void>,
): LocalTaskHandlers {
  const handlers = lambdaHandlers();
  const original = handlers[fn].bind(handlers) as (event: unknown) => Promise<unknown>;
  (handlers as unknown as Record<string, (event: unknown) => Promise<unknown>>)[fn] = async (event) => {
    await before(event as Parameters<LocalTaskHandlers[K]>[0]);
    return original(event);
  };
  return handlers;
}

function endedAfterTeardown(result: { states: string[]; lastState: string }): void {
  expect(result.states).toContain('TeardownRun');
  expect(result.lastState).toBe('Failed');
}

describeMoto('the workflow against moto', () => {
  useMotoRun(moto);

  it('runs a baseline experiment to the report in the bucket and deletes its stack', async () => {
    const result = await runWorkflowLocally(BASELINE, lambdaHandlers(), FAST);

    expect({ status: result.status, lastState: result.lastState, error: result.error }).toEqual({
      status: 'SUCCEEDED',
      lastState: 'Succeeded',
      error: undefined,
    });
    const output = result.output as { report: { json: string } };
    const s3 = moto.client(S3Client);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: output.report.json })),
    ).resolves.toEqual(expect.objectContaining({ ContentLength: expect.any(Number) }));
    s3.destroy();
    await expectNothingLeft();
  });

  it('runs a paired experiment with both sites in one region, peering included, and deletes all four stacks', async () => {
    // The receiver pinned to a zone by AZ ID; the forwarder takes the first that offers the type.
    const result = await runWorkflowLocally(
      { ...PAIRED_HERE, receiverAzId: 'euc1-az2' },
      lambdaHandlers(),
      FAST,
    );

    expect({ lastState: result.lastState, error: result.error, cause: result.cause }).toEqual({
      lastState: 'Succeeded',
      error: undefined,
      cause: undefined,
    });
    expect(result.states).toContain('ConnectSites');
    expect(result.states).toContain('RunForwarder');
    // run.json, the report and the history record say where each site ran (moto: az2 is <region>b).
    const { prefix, runId } = result.output as { prefix: string; runId: string };
    const run = runFileSchema.parse(JSON.parse(await moto.readObject(`${prefix}run.json`)));
    expect(run.placement).toEqual({
      receiver: {
        region: REGION,
        availabilityZoneId: 'euc1-az2',
        availabilityZoneName: `${REGION}b`,
        instanceType: 'c7i.large',
      },
      forwarder: {
        region: REGION,
        availabilityZoneId: 'euc1-az1',
        availabilityZoneName: `${REGION}a`,
        instanceType: 'c7i.large',
      },
    });
    expect(await moto.readObject(`${prefix}report.md`)).toContain(
      `| receiver | ${REGION} | euc1-az2 | ${REGION}b | c7i.large |`,
    );
    const started = new Date(run.startedAt ?? '').toISOString();
    const record = parseHistoryRecord(
      JSON.parse(await moto.readObject(historyKey({ run_id: runId, started_at: started }))),
    );
    expect(record).toMatchObject({
      receiver_az_id: 'euc1-az2',
      forwarder_az_id: 'euc1-az1',
      instance_type: 'c7i.large',
    });
    // What the run cost, priced from the repository's table: both sites' time, and the 2 GB the
    // forwarder says it relayed (both sites in one region: priced as traffic across zones, both ways).
    const prices = loadPriceTable();
    const { cost } = JSON.parse(await moto.readObject(`${prefix}report.json`)) as { cost?: RunCost };
    expect(cost?.prices).toEqual({ file: PRICES_FILE, date: prices.date });
    expect(cost?.complete).toBe(true);
    const items = cost?.items ?? [];
    const ec2 = items.filter((i) => i.item === 'ec2');
    expect(ec2.map((i) => i.unit_usd)).toEqual([
      prices.ec2.perHour[REGION]?.['c7i.large'],
      prices.ec2.perHour[REGION]?.['c7i.large'],
    ]);
    for (const item of ec2) expect(item.quantity).toBeGreaterThanOrEqual(60 / 3600);
    expect(items.find((i) => i.item === 'data-transfer')).toMatchObject({
      quantity: 2,
      unit_usd: 2 * prices.dataTransfer.crossZonePerGbEachWay,
      basis: expect.stringMatching(/^measured/) as unknown,
    });
    expect(items.map((i) => i.item).sort()).toEqual(
      [
        'ebs',
        'ebs',
        'ec2',
        'ec2',
        'data-transfer',
        'lambda',
        'public-ipv4',
        'public-ipv4',
        'step-functions',
      ].sort(),
    );
    const sum = items.reduce((total, i) => total + (i.usd ?? 0), 0);
    expect(cost?.total_usd).toBeCloseTo(sum, 3);
    expect(record.cost_usd).toBe(cost?.total_usd);
    // …and in the report a reader opens.
    const markdown = await moto.readObject(`${prefix}report.md`);
    expect(markdown).toContain('## What the run cost (estimate)');
    expect(markdown).toContain(`$${(cost?.total_usd ?? 0).toFixed(3)}`);
    await expectNothingLeft();
  });

  it('tears down when a site stack is deleted out of band while it is described', async () => {
    const handlers = withBefore('describeSites', async ({ run }: RunEvent) => {
      const cfn = new CloudFormationClient({ region: REGION, endpoint: moto.shim.endpoint });
      await cfn.send(new DeleteStackCommand({ StackName: run.sites[0]?.stackName }));
      cfn.destroy();
    });

    const result = await runWorkflowLocally(BASELINE, handlers, FAST);

    expect(result.error).toBe(WorkflowErrorName.stackFailed);
    expect(result.cause).toMatch(/feedpath-test-run-.*-receiver \(eu-central-1\) is DELETE_COMPLETE/);
    endedAfterTeardown(result);
    await expectNothingLeft();
  });

  it('tears down when SSM refuses to send the agent command', async () => {
    moto.shim.faults.refuseSendCommand = true;

    const result = await runWorkflowLocally(BASELINE, lambdaHandlers(), FAST);

    expect(result.error).toBe('AccessDeniedException');
    expect(result.states[result.states.indexOf('RunReceiver') + 1]).toBe('TeardownRun');
    endedAfterTeardown(result);
    await expectNothingLeft();
  });

  it('tears down when the agent command fails', async () => {
    moto.shim.faults.failedAgent = 'receiver';

    const result = await runWorkflowLocally(BASELINE, lambdaHandlers(), FAST);

    expect(result.error).toBe(WorkflowErrorName.agentFailed);
    expect(result.cause).toMatch(/receiver agent .* ended Failed \(exit 2\): receiver: FP_BAD_CONFIG/);
    endedAfterTeardown(result);
    await expectNothingLeft();
  });

  it('gives up on instances that never come online in SSM, and tears down', async () => {
    moto.shim.faults.neverOnline = true;

    const result = await runWorkflowLocally(BASELINE, lambdaHandlers(), FAST);

    expect(result.error).toBe(WorkflowErrorName.agentsOffline);
    expect(result.cause).toMatch(/ConnectionLost/);
    expect(result.states.filter((s) => s === 'ConnectAgents')).toHaveLength(POLL.agentsOnline.maxPolls + 1);
    expect(moto.shim.commands.size).toBe(0);
    endedAfterTeardown(result);
    await expectNothingLeft();
  });

  it('tears down when the agents upload nothing to analyze', async () => {
    moto.shim.faults.nothingUploaded = true;

    const result = await runWorkflowLocally(BASELINE, lambdaHandlers(), FAST);

    expect(result.error).toBe(WorkflowErrorName.analysisFailed);
    expect(result.states[result.states.indexOf('AnalyzeResults') + 1]).toBe('TeardownRun');
    endedAfterTeardown(result);
    await expectNothingLeft();
  });

  it('deletes every other stack when DeleteStack is refused for one, and names it', async () => {
    moto.shim.faults.refuseDelete = ['-receiver'];

    const result = await runWorkflowLocally(PAIRED_HERE, lambdaHandlers(), FAST);

    expect({ lastState: result.lastState, error: result.error }).toEqual({
      lastState: 'TeardownFailed',
      error: WorkflowErrorName.teardownFailed,
    });
    expect(result.cause).toMatch(
      /refused to delete 1 stack\(s\): feedpath-test-run-.*-receiver \(eu-central-1\): AccessDenied/,
    );
    const left = await moto.stacksLeft();
    expect(left).toEqual([expect.stringMatching(/^eu-central-1\/feedpath-test-run-.*-receiver$/)]);
    // What the refused stack still holds: its instance, and its role with the permissions boundary.
    const receiver = left[0]?.split('/')[1] ?? '';
    expect(await moto.instancesRunning()).toHaveLength(1);
    expect(await runRoles()).toEqual([receiver]);
    const iam = moto.client(IAMClient, 'us-east-1');
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: receiver }));
    iam.destroy();
    expect(Role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(TEST_ENV.FEEDPATH_INSTANCE_BOUNDARY_ARN);
  });

  it('sweeps every other stack when one region cannot be listed and one stack refuses deletion', async () => {
    // Two runs whose teardown never starts: a paired one here and a baseline one in Tokyo.
    const noTeardown = withBefore('teardown', () => Promise.reject(new Error('teardown unavailable')));
    await runWorkflowLocally(PAIRED_HERE, noTeardown, FAST);
    await runWorkflowLocally({ ...BASELINE, receiverRegion: 'ap-northeast-1' }, noTeardown, FAST);
    const before = await moto.stacksLeft();
    expect(before).toHaveLength(5);
    const refused = before.find((s) => s.startsWith('ap-northeast-1/'))?.split('/')[1] ?? '';
    moto.shim.faults.refuseDelete = [refused];
    moto.shim.faults.unlistableRegions = ['us-east-1'];
    const { config, clients } = lambdaCloud();
    const sweep = {
      cloudFormation: clients.cloudFormation,
      regions: config.regions,
      stage: config.stage,
      now: () => new Date(Date.now() + 3 * 86_400_000),
    };

    const first = await sweepExpiredStacks(sweep); // the peering first, the sites of its run wait
    const second = await sweepExpiredStacks(sweep);

    expect(first.deleted.map((s) => s.stackName).sort()).toEqual([
      expect.stringMatching(/-peering$/),
      expect.stringMatching(/-peering-routes$/),
    ]);
    expect(first.failed).toEqual([
      { region: 'us-east-1', reason: expect.stringMatching(/^InvalidClientTokenId/) },
      { region: 'ap-northeast-1', stackName: refused, reason: expect.stringMatching(/^AccessDenied/) },
    ]);
    expect(first.deferred).toHaveLength(2);
    expect(second.deleted.map((s) => s.stackName).sort()).toEqual([
      expect.stringMatching(/-forwarder$/),
      expect.stringMatching(/-receiver$/),
    ]);
    expect(second.failed).toEqual(first.failed);
    expect(await moto.stacksLeft()).toEqual([`ap-northeast-1/${refused}`]);
  });
  it('tears a stopped run down: its end event starts a teardown-only execution, which deletes its stacks', async () => {
    const execution = {
      id: 'arn:aws:states:eu-central-1:123456789012:execution:feedpath-test:stopped-by-hand',
      startTime: new Date().toISOString(),
    };
    const run = await prepare({ input: BASELINE, execution }, context);
    await provisionSites({ run }, context);
    expect(await moto.stacksLeft()).toHaveLength(1);
    const sfn = moto.client(SFNClient);
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'feedpath-test',
        definition: readFileSync(join(projectRoot(), 'statemachine', 'feedpath.asl.json'), 'utf8'),
        roleArn: `arn:aws:iam::123456789012:role/${STACK_ROLE}`,
      }),
    );

    await recordExecution(
      {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        detail: {
          executionArn: execution.id,
          stateMachineArn,
          status: 'ABORTED',
          startDate: Date.parse(execution.startTime),
          input: JSON.stringify(BASELINE),
        },
      },
      context,
    );
    const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(executions?.map((e) => e.name)).toEqual([`${run.runId}-teardown`]);
    const { input } = await sfn.send(
      new DescribeExecutionCommand({ executionArn: executions?.[0]?.executionArn }),
    );
    sfn.destroy();
    const teardownOnly = await runWorkflowLocally(JSON.parse(input ?? '{}'), lambdaHandlers(), FAST);

    expect(teardownOnly.lastState).toBe('Succeeded');
    await expectNothingLeft();
  });
});
