/**
 * The Lambda handlers, one by one, over the fake cloud: the exact SDK inputs that matter (stack
 * names, parameters, tags, SSM document and parameters, S3 keys) and how each maps what it sees.
 */
import 'aws-sdk-client-mock-jest';
import { DescribeInstanceTypeOfferingsCommand } from '@aws-sdk/client-ec2';
import { CreateStackCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { handler as analyze } from '../functions/analyze';
import { handler as connectAgents } from '../functions/connect-agents';
import { handler as connectSites } from '../functions/connect-sites';
import { handler as describeSites } from '../functions/describe-sites';
import { handler as pollAgents } from '../functions/poll-agents';
import { handler as prepare } from '../functions/prepare';
import { handler as provisionSites } from '../functions/provision-sites';
import { handler as startAgent } from '../functions/start-agent';
import { handler as teardown } from '../functions/teardown';
import { handler as sweeper } from '../functions/sweeper';
import { handler as recordExecution } from '../functions/record-execution';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { runWorkflowLocally } from '../cli/workflow';
import { lambdaHandlers } from './cloud-fake';
import { agentScript } from '../lib/cloud/agents';
import { regionalClient } from '../lib/cloud/clients';
import type { SiteReady } from '../lib/cloud/contract';
import { PEERING_TEMPLATE_BODY } from '../lib/cloud/connect';
import { WorkflowErrorName } from '../lib/cloud/errors';
import { parseExperimentInput } from '../lib/cloud/input';
import { planRun, runIdFor, type RunPlan } from '../lib/cloud/run';
import { SITE_TEMPLATE_BODY } from '../lib/cloud/sites';
import { sweepExpiredStacks } from '../lib/cloud/sweeper';
import { FakeCloud, TEST_ENV, useLambdaEnvironment } from './cloud-fake';
import { AGENT_NODE_FLAGS } from '../lib/node-flags';

const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Parameters<typeof prepare>[1];
const BUCKET = TEST_ENV.FEEDPATH_BUCKET;
const EXECUTION = {
  id: 'arn:aws:states:eu-central-1:123456789012:execution:feedpath-test:nightly-1',
  startTime: '2026-11-22T02:02:31.123Z',
};

function plan(input: Record<string, unknown> = {}): RunPlan {
  const experiment = parseExperimentInput(input, TEST_ENV.FEEDPATH_REGIONS.split(','));
  return planRun(experiment, { stage: 'test', bucket: BUCKET, bucketRegion: 'eu-central-1' }, EXECUTION);
}

function ready(run: RunPlan): SiteReady[] {
  return run.sites.map((site) => ({
    role: site.role,
    region: site.region,
    stackName: site.stackName,
    status: 'CREATE_COMPLETE',
    cidr: site.cidr,
    instanceId: `i-${site.role}`,
    privateIp: site.role === 'receiver' ? '10.10.0.10' : '10.20.0.10',
    vpcId: `vpc-${site.role}`,
    routeTableId: `rtb-${site.role}`,
    availabilityZoneId: site.role === 'receiver' ? 'euc1-az2' : 'apne1-az1',
  }));
}

let cloud: FakeCloud;

beforeAll(() => {
  useLambdaEnvironment();
  // The Lambdas log their progress for CloudWatch.
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

beforeEach(() => {
  cloud = new FakeCloud();
});

afterEach(() => cloud.restore());

describe('prepare', () => {
  it('plans the run from the execution and stages input, run and agent bundles under its prefix', async () => {
    const runId = runIdFor(EXECUTION);

    const run = await prepare(
      { input: { label: 'nightly', streams: 'btcusdt@trade,ethusdt@aggTrade' }, execution: EXECUTION },
      context,
    );

    expect(runId).toMatch(/^20261122-020231-[a-z0-9]{4}$/);
    expect(run).toMatchObject({
      runId,
      stage: 'test',
      bucket: BUCKET,
      prefix: `runs/2026/11/22/${runId}/`,
      backbone: true,
      sites: [
        {
          role: 'receiver',
          region: 'eu-central-1',
          stackName: `feedpath-test-run-${runId}-receiver`,
          cidr: '10.10.0.0/16',
        },
        {
          role: 'forwarder',
          region: 'ap-northeast-1',
          stackName: `feedpath-test-run-${runId}-forwarder`,
          cidr: '10.20.0.0/16',
        },
      ],
      peering: {
        requester: { region: 'ap-northeast-1', stackName: `feedpath-test-run-${runId}-peering` },
        accepter: { region: 'eu-central-1', stackName: `feedpath-test-run-${runId}-peering-routes` },
      },
    });
    expect(run.input.streams).toEqual(['btcusdt@trade', 'ethusdt@aggTrade']);
    const keys = cloud.s3
      .commandCalls(PutObjectCommand)
      .map((c) => `${c.args[0].input.Bucket}/${c.args[0].input.Key}`);
    expect(keys).toEqual([
      `${BUCKET}/${run.prefix}input.json`,
      `${BUCKET}/${run.prefix}run.json`,
      `${BUCKET}/${run.prefix}secret/relay-token`,
      `${BUCKET}/${run.prefix}agents/receiver.js`,
      `${BUCKET}/${run.prefix}agents/forwarder.js`,
    ]);
    expect(JSON.parse(cloud.objects.get(`${BUCKET}/${run.prefix}input.json`)!.toString())).toEqual(run.input);
    // The relay token: a fresh secret in the bucket, and nowhere in the plan (the workflow's state).
    const token = cloud.objects.get(`${BUCKET}/${run.prefix}secret/relay-token`)!.toString();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.stringify(run)).not.toContain(token);
    expect(cloud.objects.get(`${BUCKET}/${run.prefix}run.json`)!.toString()).not.toContain(token);
    const other = await prepare({ input: {}, execution: { ...EXECUTION, id: `${EXECUTION.id}-2` } }, context);
    expect(cloud.objects.get(`${BUCKET}/${other.prefix}secret/relay-token`)!.toString()).not.toBe(token);
    expect(cloud.objects.get(`${BUCKET}/${run.prefix}agents/receiver.js`)!.toString()).toBe(
      '// receiver agent bundle\n',
    );
  });

  it('keeps the run id when the Task is retried (same execution)', async () => {
    const first = await prepare({ input: {}, execution: EXECUTION }, context);
    const second = await prepare({ input: {}, execution: EXECUTION }, context);

    expect(second.runId).toBe(first.runId);
    expect(second.sites.map((s) => s.stackName)).toEqual(first.sites.map((s) => s.stackName));
  });

  it('accepts the Comment the Step Functions console pre-fills', async () => {
    const run = await prepare({ input: { Comment: 'Insert your JSON here' }, execution: EXECUTION }, context);

    expect(run.input.mode).toBe('paired');
  });

  it.each([
    [{ durationSeconds: 5 }, /durationSeconds: Too small/],
    [{ mode: 'both' }, /mode: Invalid option/],
    [{ streams: 'BTCUSDT@trade' }, /streams: unknown stream "BTCUSDT@trade"/],
    [{ instanceType: 'huge' }, /instanceType: expected an EC2 instance type/],
    [{ forwarderRegion: 'mars-1' }, /forwarderRegion: expected an AWS region/],
    [{ label: 'a;b' }, /label: letters, digits/],
    [{ sshKey: 'x' }, /Unrecognized key: "sshKey"/],
    ['300', /expected object/],
  ])('rejects %j as InvalidInput naming the field, staging nothing', async (input, message) => {
    await expect(prepare({ input, execution: EXECUTION }, context)).rejects.toMatchObject({
      name: WorkflowErrorName.invalidInput,
      message: expect.stringMatching(message),
    });
    expect(cloud.s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('rejects an event the ASL would never send as InvalidTaskInput', async () => {
    await expect(prepare({ input: {} } as never, context)).rejects.toMatchObject({
      name: WorkflowErrorName.taskInput,
      message: expect.stringMatching(/execution/),
    });
  });
});

describe('provisionSites', () => {
  it('creates one site stack per region with the template, parameters, tags and the CloudFormation role', async () => {
    const run = plan({ label: 'nightly', instanceType: 'c7g.large' });

    const result = await provisionSites({ run }, context);

    expect(result.stacks.map((s) => `${s.region}/${s.stackName}`)).toEqual(
      run.sites.map((s) => `${s.region}/${s.stackName}`),
    );
    const calls = cloud.cfn.commandCalls(CreateStackCommand).map((c) => c.args[0].input);
    expect(calls[0]).toEqual({
      StackName: `feedpath-test-run-${run.runId}-receiver`,
      TemplateBody: SITE_TEMPLATE_BODY,
      Parameters: [
        { ParameterKey: 'Role', ParameterValue: 'receiver' },
        { ParameterKey: 'ResourceName', ParameterValue: `feedpath-test-run-${run.runId}-receiver` },
        { ParameterKey: 'VpcCidr', ParameterValue: '10.10.0.0/16' },
        { ParameterKey: 'SubnetCidr', ParameterValue: '10.10.0.0/24' },
        // The first AZ ID, in sorted order, of those EC2 says offer the type (the fake: az3, az1).
        { ParameterKey: 'AvailabilityZoneId', ParameterValue: 'eu-central-1-az1' },
        { ParameterKey: 'InstanceType', ParameterValue: 'c7g.large' },
        {
          ParameterKey: 'ImageId',
          ParameterValue: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
        },
        { ParameterKey: 'BackbonePeerCidr', ParameterValue: '10.20.0.0/16' },
        { ParameterKey: 'BackbonePort', ParameterValue: '9100' },
        { ParameterKey: 'ResultsBucket', ParameterValue: BUCKET },
        { ParameterKey: 'RunPrefix', ParameterValue: run.prefix },
        { ParameterKey: 'InstanceRoleBoundaryArn', ParameterValue: TEST_ENV.FEEDPATH_INSTANCE_BOUNDARY_ARN },
      ],
      Tags: [
        { Key: 'feedpath:run', Value: run.runId },
        { Key: 'feedpath:stage', Value: 'test' },
        { Key: 'feedpath:expires-at', Value: run.expiresAt },
        { Key: 'feedpath:role', Value: 'receiver' },
        { Key: 'feedpath:label', Value: 'nightly' },
      ],
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      RoleARN: TEST_ENV.FEEDPATH_STACK_ROLE_ARN,
      TimeoutInMinutes: 30,
      ClientRequestToken: `feedpath-test-run-${run.runId}-receiver-create`,
    });
    expect(calls[1]).toMatchObject({
      StackName: `feedpath-test-run-${run.runId}-forwarder`,
      Parameters: expect.arrayContaining([
        { ParameterKey: 'Role', ParameterValue: 'forwarder' },
        { ParameterKey: 'VpcCidr', ParameterValue: '10.20.0.0/16' },
        { ParameterKey: 'BackbonePeerCidr', ParameterValue: '' },
      ]),
    });
    expect(cloud.created).toEqual([
      `eu-central-1/${run.sites[0]?.stackName}`,
      `ap-northeast-1/${run.sites[1]?.stackName}`,
    ]);
  });

  it('asks EC2 which zones offer the instance type, and refuses a type no zone of the region offers', async () => {
    const run = plan();
    const forwarderType = run.sites[1]?.instanceType as string;
    cloud.options.offeredZones = (region) => (region === 'ap-northeast-1' ? [] : [`${region}-az2`]);

    await expect(provisionSites({ run }, context)).rejects.toMatchObject({
      name: WorkflowErrorName.invalidInput,
      message: expect.stringContaining(
        `instanceType ${forwarderType} is not offered in any availability zone of ap-northeast-1`,
      ),
    });
    expect(cloud.ec2).toHaveReceivedCommandWith(DescribeInstanceTypeOfferingsCommand, {
      LocationType: 'availability-zone-id',
      Filters: [{ Name: 'instance-type', Values: [forwarderType] }],
    });
    expect(cloud.created).toEqual([]);
  });

  it('treats a stack that already exists as created (a retried Task)', async () => {
    const run = plan();
    await provisionSites({ run }, context);

    await expect(provisionSites({ run }, context)).resolves.toMatchObject({ stacks: expect.any(Array) });
    expect(cloud.created).toHaveLength(2);
  });

  it('raises CloudThrottled when CloudFormation throttles (the ASL retries it)', async () => {
    cloud.options.throttleOnce.add('CreateStackCommand');

    await expect(provisionSites({ run: plan() }, context)).rejects.toMatchObject({
      name: WorkflowErrorName.throttled,
    });
  });
});

describe('describeSites', () => {
  it('is not ready while a stack is being created, and ready with the outputs once all are complete', async () => {
    const run = plan({ mode: 'baseline' });
    await provisionSites({ run }, context);

    const first = await describeSites({ run }, context);
    const second = await describeSites({ run }, context);

    const receiver = { role: 'receiver', region: 'eu-central-1', stackName: run.sites[0]?.stackName };
    expect(first).toEqual({ ready: false, sites: [{ ...receiver, status: 'CREATE_IN_PROGRESS' }] });
    expect(second).toEqual({
      ready: true,
      sites: [
        {
          ...receiver,
          status: 'CREATE_COMPLETE',
          cidr: '10.10.0.0/16',
          instanceId: 'i-receiver-eu-central-1',
          privateIp: '10.10.0.10',
          vpcId: 'vpc-receiver',
          routeTableId: 'rtb-receiver',
          availabilityZoneId: 'eu-central-1-az1',
        },
      ],
    });
  });

  it('raises StackFailed for a stack that rolled back', async () => {
    cloud.options.stackOutcome.receiver = 'ROLLBACK_COMPLETE';
    const run = plan({ mode: 'baseline' });
    await provisionSites({ run }, context);
    await describeSites({ run }, context);

    await expect(describeSites({ run }, context)).rejects.toMatchObject({
      name: WorkflowErrorName.stackFailed,
      message: expect.stringContaining(
        `stack ${run.sites[0]?.stackName} (eu-central-1) is ROLLBACK_COMPLETE`,
      ),
    });
  });
});

describe('connectSites', () => {
  it('creates the requester stack in the forwarder region, then the accepter routes in the receiver region', async () => {
    const run = plan();
    const sites = ready(run);

    const steps = [];
    for (let i = 0; i < 8 && steps.at(-1)?.connected !== true; i++)
      steps.push(await connectSites({ run, sites }, context));

    // create requester, requester in progress, create accepter, accepter in progress, done
    expect(steps.map((s) => s.connected)).toEqual([false, false, false, false, true]);
    const [requester, accepter] = cloud.cfn.commandCalls(CreateStackCommand).map((c) => c.args[0].input);
    expect(requester).toMatchObject({
      StackName: `feedpath-test-run-${run.runId}-peering`,
      TemplateBody: PEERING_TEMPLATE_BODY,
      Parameters: [
        { ParameterKey: 'Side', ParameterValue: 'requester' },
        { ParameterKey: 'RouteTableId', ParameterValue: 'rtb-forwarder' },
        { ParameterKey: 'PeerCidr', ParameterValue: '10.10.0.0/16' },
        { ParameterKey: 'VpcId', ParameterValue: 'vpc-forwarder' },
        { ParameterKey: 'PeerVpcId', ParameterValue: 'vpc-receiver' },
        { ParameterKey: 'PeerRegion', ParameterValue: 'eu-central-1' },
      ],
      Tags: expect.arrayContaining([{ Key: 'feedpath:role', Value: 'peering' }]),
    });
    expect(accepter).toMatchObject({
      StackName: `feedpath-test-run-${run.runId}-peering-routes`,
      Parameters: [
        { ParameterKey: 'Side', ParameterValue: 'accepter' },
        { ParameterKey: 'RouteTableId', ParameterValue: 'rtb-receiver' },
        { ParameterKey: 'PeerCidr', ParameterValue: '10.20.0.0/16' },
        { ParameterKey: 'PeeringConnectionId', ParameterValue: 'pcx-ap-northeast-1' },
      ],
    });
    expect(cloud.created).toEqual([
      `ap-northeast-1/${requester?.StackName}`,
      `eu-central-1/${accepter?.StackName}`,
    ]);
    expect(steps.at(-1)).toEqual({ connected: true, peeringConnectionId: 'pcx-ap-northeast-1' });
  });
});

describe('connectAgents', () => {
  it('asks SSM in each region about that region’s instance, online when all are Online', async () => {
    const run = plan();

    const result = await connectAgents({ run, sites: ready(run) }, context);

    expect(cloud.ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-receiver'] }],
    });
    expect(cloud.ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-forwarder'] }],
    });
    expect(result).toEqual({
      online: true,
      instances: [
        { role: 'receiver', instanceId: 'i-receiver', pingStatus: 'Online' },
        { role: 'forwarder', instanceId: 'i-forwarder', pingStatus: 'Online' },
      ],
    });
  });
});

describe('startAgent', () => {
  it('runs the agent script with AWS-RunShellScript, output to the run prefix', async () => {
    const run = plan();
    const sites = ready(run);

    const command = await startAgent({ run, sites, role: 'forwarder' }, context);

    expect(command).toEqual({
      role: 'forwarder',
      region: 'ap-northeast-1',
      instanceId: 'i-forwarder',
      commandId: 'cmd-1',
    });
    const sent = cloud.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(sent).toEqual({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: ['i-forwarder'],
      Comment: `feedpath ${run.runId} forwarder`,
      TimeoutSeconds: 600,
      Parameters: {
        commands: agentScript({
          run,
          role: 'forwarder',
          config: {
            exchangeUrl: 'wss://stream.binance.com:9443',
            streams: ['btcusdt@trade'],
            durationSeconds: 300,
            outDir: 'out',
            receivers: [{ host: '10.10.0.10', port: 9100 }],
          },
        }),
        executionTimeout: ['900'],
      },
      OutputS3BucketName: BUCKET,
      OutputS3KeyPrefix: `${run.prefix}logs/ssm/forwarder`,
      OutputS3Region: 'eu-central-1',
    });
  });

  it('gives the receiver its mode and port, and the token only through the environment', async () => {
    const run = plan({ mode: 'backbone' });

    await startAgent({ run, sites: ready(run), role: 'receiver' }, context);

    const commands = cloud.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands ?? [];
    const config = JSON.parse(
      commands[commands.indexOf("cat > config.json <<'FEEDPATH_CONFIG'") + 1] as string,
    );
    expect(config).toEqual({
      exchangeUrl: 'wss://stream.binance.com:9443',
      streams: ['btcusdt@trade'],
      durationSeconds: 300,
      outDir: 'out',
      mode: 'backbone',
      // No baseline to compare it with: no A/A control, and no direct connection to record (the
      // input's defaults are on).
      control: false,
      record: false,
      host: '0.0.0.0',
      port: 9100,
    });
    // The token is fetched from the bucket by the instance: the command carries only its key.
    expect(commands).toContain(
      `aws s3 cp --only-show-errors --region "$REGION" 's3://${BUCKET}/${run.prefix}secret/relay-token' relay-token || { echo "feedpath: cannot fetch the relay token" >&2; exit 1; }`,
    );
    expect(commands.join('\n')).toContain(
      `timeout --kill-after=30 600 node-22 ${AGENT_NODE_FLAGS.join(' ')} agent.js`,
    );
    expect(commands.join('\n')).not.toMatch(/FEEDPATH_RELAY_TOKEN=['"A-Za-z0-9_-]{20,}/);
  });

  it('finds the command a retried Task already sent instead of starting the agent twice', async () => {
    const run = plan();
    const first = await startAgent({ run, sites: ready(run), role: 'receiver' }, context);

    const second = await startAgent({ run, sites: ready(run), role: 'receiver' }, context);

    expect(second).toEqual(first);
    expect(cloud.ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
  });
});

describe('pollAgents', () => {
  const agents = {
    receiver: {
      role: 'receiver' as const,
      region: 'eu-central-1',
      instanceId: 'i-receiver',
      commandId: 'cmd-1',
    },
    forwarder: {
      role: 'forwarder' as const,
      region: 'ap-northeast-1',
      instanceId: 'i-forwarder',
      commandId: 'cmd-2',
    },
  };

  async function sent(run: RunPlan): Promise<void> {
    await startAgent({ run, sites: ready(run), role: 'receiver' }, context);
    await startAgent({ run, sites: ready(run), role: 'forwarder' }, context);
  }

  it('is done when every command succeeded', async () => {
    const run = plan();
    await sent(run);

    const result = await pollAgents({ run, agents }, context);

    expect(cloud.ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, {
      CommandId: 'cmd-2',
      InstanceId: 'i-forwarder',
    });
    expect(result).toEqual({
      done: true,
      agents: [
        { role: 'receiver', status: 'Success' },
        { role: 'forwarder', status: 'Success' },
      ],
    });
  });

  it('waits for the other agent before reporting a failure, so that it still uploads', async () => {
    cloud.options.commandOutcome.forwarder = {
      status: 'Failed',
      code: 1,
      stderr: 'forwarder: FP_AUTH_REJECTED',
    };
    cloud.options.commandOutcome.receiver = { status: 'InProgress' };
    const run = plan();
    await sent(run);

    const result = await pollAgents({ run, agents }, context);

    expect(result).toEqual({
      done: false,
      agents: [
        { role: 'receiver', status: 'InProgress' },
        { role: 'forwarder', status: 'Failed' },
      ],
    });
  });

  it.each([
    [{ status: 'TimedOut' as const }, WorkflowErrorName.agentTimedOut],
    [{ status: 'Failed' as const, code: 124 }, WorkflowErrorName.agentTimedOut],
    [{ status: 'Failed' as const, code: 1 }, WorkflowErrorName.agentFailed],
    [{ status: 'Cancelled' as const }, WorkflowErrorName.agentFailed],
  ])('maps a finished command %j to %s', async (outcome, name) => {
    cloud.options.commandOutcome.receiver = outcome;
    const run = plan();
    await sent(run);

    await expect(pollAgents({ run, agents }, context)).rejects.toMatchObject({
      name,
      message: expect.stringContaining('the receiver agent (command cmd-1 on i-receiver)'),
    });
  });
});

describe('teardown', () => {
  it('deletes the peering stacks first, and the sites only once the peering is gone', async () => {
    const run = plan();
    for (const site of run.sites) {
      await new CloudFormationClient({ region: site.region }).send(
        new CreateStackCommand({ StackName: site.stackName }),
      );
    }
    for (const stack of [run.peering!.requester, run.peering!.accepter]) {
      await new CloudFormationClient({ region: stack.region }).send(
        new CreateStackCommand({ StackName: stack.stackName }),
      );
    }

    const steps = [];
    for (let i = 0; i < 8 && steps.at(-1)?.done !== true; i++) steps.push(await teardown({ run }, context));

    const deletes = cloud.cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName);
    expect(deletes).toEqual([
      run.peering!.accepter.stackName,
      run.peering!.requester.stackName,
      run.sites[0]!.stackName,
      run.sites[1]!.stackName,
    ]);
    expect(steps[0]).toEqual({
      done: false,
      remaining: [
        run.peering!.accepter.stackName,
        run.peering!.requester.stackName,
        run.sites[0]!.stackName,
        run.sites[1]!.stackName,
      ],
      deleted: [],
    });
    expect(steps.at(-1)).toEqual({ done: true, remaining: [], deleted: deletes });
    expect(cloud.live()).toEqual([]);
  });

  it('is done at once when provisioning never created anything', async () => {
    await expect(teardown({ run: plan() }, context)).resolves.toEqual({
      done: true,
      remaining: [],
      deleted: expect.any(Array),
    });
    expect(cloud.cfn).not.toHaveReceivedCommand(DeleteStackCommand);
  });
});

describe('sweeper', () => {
  it('deletes only this stage’s expired run stacks, peering before sites', async () => {
    const run = plan();
    const tags = (stage: string, expiresAt: string, role: string) => [
      { Key: 'feedpath:run', Value: run.runId },
      { Key: 'feedpath:stage', Value: stage },
      { Key: 'feedpath:expires-at', Value: expiresAt },
      { Key: 'feedpath:role', Value: role },
    ];
    const create = (region: string, name: string, stage: string, expiresAt: string, role: string) =>
      new CloudFormationClient({ region }).send(
        new CreateStackCommand({ StackName: name, Tags: tags(stage, expiresAt, role) }),
      );
    await create('eu-central-1', 'feedpath-test-run-x-receiver', 'test', '2026-01-01T00:00:00Z', 'receiver');
    await create('ap-northeast-1', 'feedpath-test-run-x-peering', 'test', '2026-01-01T00:00:00Z', 'peering');
    await create('eu-central-1', 'feedpath-test-run-y-receiver', 'test', '2099-01-01T00:00:00Z', 'receiver');
    await create('eu-central-1', 'feedpath-prod-run-x-receiver', 'prod', '2026-01-01T00:00:00Z', 'receiver');
    await create('eu-central-1', 'someone-elses-stack', 'test', '2026-01-01T00:00:00Z', 'receiver');
    const deps = {
      cloudFormation: regionalClient((region) => new CloudFormationClient({ region })),
      regions: ['ap-northeast-1', 'eu-central-1'],
      stage: 'test',
      now: () => new Date('2026-06-01T00:00:00Z'),
    };

    const result = await sweepExpiredStacks(deps);

    expect(result).toEqual({
      deleted: [{ region: 'ap-northeast-1', stackName: 'feedpath-test-run-x-peering' }],
      deferred: [{ region: 'eu-central-1', stackName: 'feedpath-test-run-x-receiver' }],
      failed: [],
    });
  });

  it('runs as a scheduled Lambda over the configured regions', async () => {
    const result = await sweeper({}, context);

    expect(result).toEqual({ deleted: [], deferred: [], failed: [] });
  });
});

describe('an execution stopped or timed out', () => {
  const STATE_MACHINE = 'arn:aws:states:eu-central-1:123456789012:stateMachine:feedpath-test';
  const ended = (status: string, input: string) => ({
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: {
      executionArn: EXECUTION.id,
      stateMachineArn: STATE_MACHINE,
      name: 'nightly-1',
      status,
      startDate: Date.parse(EXECUTION.startTime),
      stopDate: Date.parse(EXECUTION.startTime) + 600_000,
      input,
    },
  });

  it.each(['ABORTED', 'TIMED_OUT'])(
    '%s: starts a teardown-only execution with the run plan, which deletes every stack of the run',
    async (status) => {
      const run = await prepare({ input: {}, execution: EXECUTION }, context);
      await provisionSites({ run }, context);
      expect(cloud.live()).toHaveLength(2);

      await recordExecution(ended(status, '{}'), context);

      const started = cloud.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
      expect(started).toHaveLength(1);
      expect(started[0]).toMatchObject({ stateMachineArn: STATE_MACHINE, name: `${run.runId}-teardown` });
      const input = JSON.parse(started[0]?.input ?? '{}') as { teardownOf: Record<string, unknown> };
      // The plan comes from run.json: the stacks, and never the relay's secret.
      expect(input.teardownOf).toMatchObject({ runId: run.runId, sites: run.sites, peering: run.peering });
      expect(input.teardownOf).not.toHaveProperty('backboneToken');

      const teardownOnly = await runWorkflowLocally(input, lambdaHandlers(), {
        pollWaitMs: 0,
        runWaitMs: 0,
        retryIntervalMs: 0,
      });
      expect(teardownOnly.lastState).toBe('Succeeded');
      expect(cloud.live()).toEqual([]);

      // Its own end is no run: no teardown of a teardown, no history record of it.
      const again = await recordExecution(ended('SUCCEEDED', started[0]?.input ?? ''), context);
      expect(again).toMatchObject({ cleanup: { action: 'none' }, record: { action: 'ignored' } });
    },
  );

  it('starts nothing for a run that ended by itself, or stopped before it created anything', async () => {
    await recordExecution(ended('FAILED', '{}'), context);
    await recordExecution(ended('ABORTED', '{}'), context);

    expect(cloud.sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('analyze', () => {
  it('writes the report under the run prefix with the hosts’ clock bounds from chrony', async () => {
    const run = await prepare({ input: {}, execution: EXECUTION }, context);
    await startAgent({ run, sites: ready(run), role: 'receiver' }, context);
    await pollAgents(
      {
        run,
        agents: {
          receiver: {
            role: 'receiver',
            region: 'eu-central-1',
            instanceId: 'i-receiver',
            commandId: 'cmd-1',
          },
        },
      },
      context,
    );

    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const result = await analyze({ run }, context);
    const printed = stdout.mock.calls.map(([chunk]) => String(chunk));
    stdout.mockRestore();

    expect(result).toEqual({
      runId: run.runId,
      bucket: BUCKET,
      prefix: run.prefix,
      report: {
        json: `${run.prefix}report.json`,
        markdown: `${run.prefix}report.md`,
        html: `${run.prefix}report.html`,
      },
      verdict: expect.any(String),
    });
    const written = cloud.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(written).toEqual(
      expect.arrayContaining([
        `${run.prefix}report.json`,
        `${run.prefix}report.md`,
        `${run.prefix}report.html`,
      ]),
    );
    const report = JSON.parse(cloud.objects.get(`${BUCKET}/${run.prefix}report.json`)!.toString());
    expect(report.clock.receiver).toMatchObject({ error_bound_ms: 0.25 });
    // The run's history record, the trend report, and its metrics in Embedded Metric Format.
    expect(written).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^history/year=\\d{4}/month=\\d{2}/day=\\d{2}/${run.runId}\\.json$`),
        ),
        'history.html',
      ]),
    );
    const emf = printed
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((doc) => '_aws' in doc);
    expect(emf).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'Feedpath' }] } });
  });

  it('raises AnalysisFailed when the run has no results', async () => {
    const run = await prepare({ input: {}, execution: EXECUTION }, context);

    await expect(analyze({ run }, context)).rejects.toMatchObject({ name: WorkflowErrorName.analysisFailed });
  });
});
