/**
 * A stateful fake of the AWS APIs the workflow calls, behind aws-sdk-client-mock: CloudFormation
 * stacks that take a few describes to create and to delete, SSM instances and commands, and an S3
 * bucket in memory. It records every stack created and deleted, so a test can assert that a run
 * left nothing behind. Clients of every region share it; the region comes from the client's config.
 */
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type CreateStackCommandInput,
} from '@aws-sdk/client-cloudformation';
import { agentMetricsSchema, clockFileSchema } from '../lib/agent-files';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import {
  DescribeAvailabilityZonesCommand,
  type DescribeAvailabilityZonesCommandInput,
  DescribeInstanceTypeOfferingsCommand,
  EC2Client,
  type DescribeInstanceTypeOfferingsCommandInput,
} from '@aws-sdk/client-ec2';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { handler as analyze } from '../functions/analyze';
import { handler as connectAgents } from '../functions/connect-agents';
import { handler as connectSites } from '../functions/connect-sites';
import { handler as describeSites } from '../functions/describe-sites';
import { handler as pollAgents } from '../functions/poll-agents';
import { handler as prepare } from '../functions/prepare';
import { handler as provisionSites } from '../functions/provision-sites';
import { handler as startAgent } from '../functions/start-agent';
import { handler as teardown } from '../functions/teardown';
import type { LocalTaskHandlers, LocalWorkflowOptions } from '../cli/workflow';
import { resetLambdaCloud } from '../lib/cloud/lambda';
import { TAG } from '../lib/cloud/run';
import { CSV_HEADER, formatSampleRow } from '../lib/samples';

export const TEST_ENV = {
  FEEDPATH_STAGE: 'test',
  FEEDPATH_BUCKET: 'feedpath-test-results',
  AWS_REGION: 'eu-central-1',
  FEEDPATH_REGIONS: 'ap-northeast-1,eu-central-1,us-east-1',
  FEEDPATH_STACK_ROLE_ARN: 'arn:aws:iam::123456789012:role/feedpath-test-stacks',
  FEEDPATH_INSTANCE_BOUNDARY_ARN: 'arn:aws:iam::123456789012:policy/feedpath-test-run-instance-boundary',
  AWS_ACCESS_KEY_ID: 'AKIDFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake',
} as const;

/** The results bucket of the test deployment. */
export const BUCKET = TEST_ENV.FEEDPATH_BUCKET;
/** No waits between polls: the fake (or moto) answers at once. */
export const FAST: LocalWorkflowOptions = { pollWaitMs: 0, runWaitMs: 0, retryIntervalMs: 0 };

/** Sets the Lambda environment the handlers read (with agent bundles in a temporary task root). */
export function useLambdaEnvironment(): void {
  const root = mkdtempSync(join(tmpdir(), 'feedpath-task-root-'));
  mkdirSync(join(root, 'dist', 'agents'), { recursive: true });
  for (const role of ['receiver', 'forwarder']) {
    writeFileSync(join(root, 'dist', 'agents', `${role}.js`), `// ${role} agent bundle\n`);
  }
  Object.assign(process.env, TEST_ENV, { LAMBDA_TASK_ROOT: root });
  resetLambdaCloud();
}

export interface CommandOutcome {
  status: 'Success' | 'Failed' | 'TimedOut' | 'Cancelled' | 'InProgress';
  code?: number;
  stderr?: string;
}

export interface FakeCloudOptions {
  /** DescribeStacks calls before a stack being created reaches its outcome. */
  createPolls: number;
  /** DescribeStacks calls before a stack being deleted is gone. */
  deletePolls: number;
  /**
   * Final creation status by stack part (`receiver`, `forwarder`, `peering`, `peering-routes`), or
   * by part in one region (`receiver@eu-west-2`: one region of a multi-receiver run).
   */
  stackOutcome: Record<string, string>;
  /** Stack parts whose first deletion ends DELETE_FAILED. */
  deleteFailsOnce: Set<string>;
  /** Stack parts whose DeleteStack is always refused (AccessDenied, as with a deny policy). */
  deleteRefused: Set<string>;
  /** Regions where listing every stack (DescribeStacks without a name) fails, as an opt-in region not enabled. */
  listRefused: Set<string>;
  /** DescribeInstanceInformation calls before the instances are Online (Infinity: never). */
  onlineAfter: number;
  /** GetCommandInvocation calls before a command reaches its outcome. */
  commandPolls: number;
  commandOutcome: Record<string, CommandOutcome>;
  /** Rows per path the receiver's script "uploads" when its command ends (0: nothing). */
  uploadRows: number;
  /** Commands (by name, e.g. 'CreateStackCommand') whose first call is throttled. */
  throttleOnce: Set<string>;
  /** AZ IDs per region that offer an instance type, in EC2's (unsorted) order; by default every type is offered in two zones. */
  offeredZones: (region: string, instanceType: string) => string[];
  /** Every AZ ID of a region (DescribeAvailabilityZones); by default az1 … az3. */
  regionZones: (region: string) => string[];
}

interface FakeStack {
  region: string;
  name: string;
  part: string;
  status: string;
  polls: number;
  token?: string;
  input: CreateStackCommandInput;
  outputs: Record<string, string>;
  failedDeletes: number;
}

interface FakeCommand {
  id: string;
  region: string;
  instanceId: string;
  comment: string;
  polls: number;
  role: string;
  /** Where the run script uploads the agent's files (its `UPLOAD=` line), `<bucket>/<key prefix>`. */
  uploadTo?: string;
  /** The agent's configuration, as the run script writes it to config.json. */
  config?: Record<string, unknown>;
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}

async function regionOf(getClient: () => unknown): Promise<string> {
  const client = getClient() as { config: { region: () => Promise<string> } };
  return client.config.region();
}

export class FakeCloud {
  readonly options: FakeCloudOptions;
  readonly stacks = new Map<string, FakeStack>();
  /** `region/stackName` of every stack created, in order. */
  readonly created: string[] = [];
  /** `region/stackName` of every stack whose deletion completed. */
  readonly deleted: string[] = [];
  readonly commands: FakeCommand[] = [];
  readonly objects = new Map<string, Buffer>();
  readonly cfn = mockClient(CloudFormationClient);
  readonly ssm = mockClient(SSMClient);
  readonly s3 = mockClient(S3Client);
  readonly ec2 = mockClient(EC2Client);
  readonly sfn = mockClient(SFNClient);
  private onlineCalls = 0;
  private readonly throttled = new Set<string>();

  constructor(options: Partial<FakeCloudOptions> = {}) {
    this.options = {
      createPolls: 2,
      deletePolls: 2,
      stackOutcome: {},
      deleteFailsOnce: new Set(),
      deleteRefused: new Set(),
      listRefused: new Set(),
      onlineAfter: 1,
      commandPolls: 1,
      commandOutcome: {},
      uploadRows: 200,
      throttleOnce: new Set(),
      offeredZones: (region) => [`${region}-az3`, `${region}-az1`],
      regionZones: (region) => [1, 2, 3].map((n) => `${region}-az${n}`),
      ...options,
    };
    this.install();
  }

  /** Stacks CloudFormation still knows (not DELETE_COMPLETE), as `region/stackName`. */
  live(): string[] {
    return [...this.stacks.values()]
      .filter((s) => s.status !== 'DELETE_COMPLETE')
      .map((s) => `${s.region}/${s.name}`);
  }

  stack(part: string): FakeStack | undefined {
    return [...this.stacks.values()].find((s) => s.part === part);
  }

  restore(): void {
    this.cfn.restore();
    this.ssm.restore();
    this.s3.restore();
    this.ec2.restore();
    this.sfn.restore();
  }

  private maybeThrottle(command: string): void {
    if (this.options.throttleOnce.has(command) && !this.throttled.has(command)) {
      this.throttled.add(command);
      throw Object.assign(awsError('ThrottlingException', 'Rate exceeded'), {
        $retryable: { throttling: true },
      });
    }
  }

  private find(region: string, name: string): FakeStack | undefined {
    const stack = this.stacks.get(`${region}/${name}`);
    return stack === undefined || stack.status === 'DELETE_COMPLETE' ? undefined : stack;
  }

  private advance(stack: FakeStack): void {
    stack.polls += 1;
    if (stack.status === 'CREATE_IN_PROGRESS' && stack.polls >= this.options.createPolls) {
      stack.status =
        this.options.stackOutcome[`${stack.part}@${stack.region}`] ??
        this.options.stackOutcome[stack.part] ??
        'CREATE_COMPLETE';
    } else if (stack.status === 'DELETE_IN_PROGRESS' && stack.polls >= this.options.deletePolls) {
      if (this.options.deleteFailsOnce.has(stack.part) && stack.failedDeletes === 0) {
        stack.failedDeletes += 1;
        stack.status = 'DELETE_FAILED';
      } else {
        stack.status = 'DELETE_COMPLETE';
        this.deleted.push(`${stack.region}/${stack.name}`);
      }
    }
  }

  private outputsFor(region: string, input: CreateStackCommandInput): Record<string, string> {
    const params = Object.fromEntries(
      (input.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]),
    );
    if (params.Side !== undefined)
      return { PeeringConnectionId: params.PeeringConnectionId || `pcx-${region}` };
    const role = params.Role ?? 'x';
    return {
      InstanceId: `i-${role}-${region}`,
      // 10.10.0.10 for a one-receiver run's receiver, 10.20.0.10 for the forwarder, as in the VPC ranges.
      PrivateIp: (params.VpcCidr ?? (role === 'receiver' ? '10.10.0.0/16' : '10.20.0.0/16')).replace(
        /\.0\.0\/16$/,
        '.0.10',
      ),
      PublicIp: '203.0.113.10',
      VpcId: `vpc-${role}`,
      VpcCidr: params.VpcCidr ?? '',
      RouteTableId: `rtb-${role}`,
      AvailabilityZoneId: params.AvailabilityZoneId ?? '',
    };
  }

  private upload(command: FakeCommand): void {
    const prefix = command.uploadTo ?? this.prefixOf(command);
    if (prefix === undefined) return;
    this.objects.set(`${prefix}logs/${command.role}.stderr.log`, Buffer.from(''));
    // In the run script's shape, checked by the schema the analysis reads it with.
    const reading = (at: string, errorBoundMs: number) => ({
      at,
      offsetSeconds: -0.00001,
      rootDelaySeconds: 0.0002,
      rootDispersionSeconds: errorBoundMs / 1000 - 0.00011,
      errorBoundMs,
    });
    const clock = clockFileSchema.parse({
      role: command.role,
      host: `ip-${command.role}`,
      start: reading('start', 0.21),
      end: reading('end', 0.25),
    });
    this.objects.set(`${prefix}clock/${command.role}.json`, Buffer.from(JSON.stringify(clock)));
    // The agent's metrics with the one connection it opened (each command's a second apart), in the
    // shape the agents write, checked by the schema run.json's connections are read with.
    const metrics = agentMetricsSchema.parse({
      agent: command.role,
      duration_s: 60,
      samples: 6,
      avg_cpu_pct: 3,
      max_cpu_pct: 5,
      avg_rss_mb: 80,
      max_rss_mb: 90,
      avg_msgs_per_s: 30,
      max_msgs_per_s: 40,
      total_msgs: 1800,
      counters: {},
      clock_error_bound_ms: { start: 0.21, end: 0.25 },
      files: { csv: '', json: '' },
      connections: [
        {
          agent: command.role,
          feed: command.role === 'receiver' ? 'baseline' : 'backbone',
          ordinal: 1,
          url: 'wss://stream.binance.com:9443/stream?streams=btcusdt@trade',
          remote: { address: '203.0.113.50', port: 9443 },
          local: { address: '10.0.0.10', port: 40_000 + this.commands.indexOf(command) },
          opened_at: new Date(Date.UTC(2026, 10, 22) + this.commands.indexOf(command) * 1000).toISOString(),
          closed_at: null,
          close_reason: null,
        },
      ],
    });
    this.objects.set(`${prefix}metrics/${command.role}.json`, Buffer.from(JSON.stringify(metrics)));
    if (command.role !== 'receiver' || this.options.uploadRows === 0) return;
    const start = 1_763_776_000_000_000n; // µs
    const rows = { baseline: [CSV_HEADER], backbone: [CSV_HEADER] };
    for (let i = 0; i < this.options.uploadRows; i++) {
      const eUs = Number(start) + i * 30_000;
      const base = BigInt(eUs) * 1000n;
      const common = {
        id: 1000 + i,
        stream: 'btcusdt@trade',
        symbol: 'BTCUSDT',
        exchangeTimeUs: eUs,
        firstId: undefined,
      };
      rows.baseline.push(
        formatSampleRow({
          ...common,
          forwarderNs: undefined,
          receiverNs: base + 114_000_000n + BigInt(i % 7) * 1_000_000n,
        }).trimEnd(),
      );
      rows.backbone.push(
        formatSampleRow({
          ...common,
          forwarderNs: base + 2_000_000n,
          receiverNs: base + 115_000_000n + BigInt(i % 3) * 100_000n,
        }).trimEnd(),
      );
    }
    this.objects.set(`${prefix}baseline-results.csv`, Buffer.from(`${rows.baseline.join('\n')}\n`));
    this.objects.set(`${prefix}backbone-results.csv`, Buffer.from(`${rows.backbone.join('\n')}\n`));
  }

  /** `<bucket>/runs/…/<runId>/` of the command's run (PrepareRun wrote its input.json there). */
  private prefixOf(command: FakeCommand): string | undefined {
    const runId = command.comment.split(' ')[1];
    const key = [...this.objects.keys()].find((k) => k.includes(`/${runId}/`) && k.endsWith('/input.json'));
    return key?.slice(0, -'input.json'.length);
  }

  private install(): void {
    this.sfn.on(StartExecutionCommand).callsFake(async (input: { name?: string }) => ({
      executionArn: `arn:aws:states:eu-central-1:123456789012:execution:feedpath-test:${input.name ?? 'x'}`,
      startDate: new Date(),
    }));
    this.ec2
      .on(DescribeInstanceTypeOfferingsCommand)
      .callsFake(async (input: DescribeInstanceTypeOfferingsCommandInput, getClient) => {
        const region = await regionOf(getClient);
        const type = input.Filters?.find((f) => f.Name === 'instance-type')?.Values?.[0] ?? '';
        return {
          InstanceTypeOfferings: this.options
            .offeredZones(region, type)
            .map((Location) => ({ InstanceType: type, LocationType: 'availability-zone-id', Location })),
        };
      });
    this.ec2
      .on(DescribeAvailabilityZonesCommand)
      .callsFake(async (input: DescribeAvailabilityZonesCommandInput, getClient) => {
        const region = await regionOf(getClient);
        // The nth zone is named <region> + the nth letter (this account's mapping; others differ).
        const zones = this.options.regionZones(region).map((ZoneId, i) => ({
          ZoneId,
          ZoneName: `${region}${String.fromCharCode(97 + i)}`,
          RegionName: region,
        }));
        const wanted = input.ZoneIds ?? [];
        return { AvailabilityZones: zones.filter((z) => wanted.length === 0 || wanted.includes(z.ZoneId)) };
      });
    this.cfn.on(CreateStackCommand).callsFake(async (input: CreateStackCommandInput, getClient) => {
      this.maybeThrottle('CreateStackCommand');
      const region = await regionOf(getClient);
      const name = input.StackName ?? '';
      const existing = this.find(region, name);
      if (existing !== undefined) {
        if (existing.token !== undefined && existing.token === input.ClientRequestToken)
          return { StackId: name };
        throw awsError('AlreadyExistsException', `Stack [${name}] already exists`);
      }
      const part = (input.Tags ?? []).find((t) => t.Key === TAG.role)?.Value ?? name;
      this.stacks.set(`${region}/${name}`, {
        region,
        name,
        part,
        status: 'CREATE_IN_PROGRESS',
        polls: 0,
        ...(input.ClientRequestToken !== undefined ? { token: input.ClientRequestToken } : {}),
        input,
        outputs: this.outputsFor(region, input),
        failedDeletes: 0,
      });
      this.created.push(`${region}/${name}`);
      return { StackId: `arn:aws:cloudformation:${region}:123456789012:stack/${name}/1` };
    });
    this.cfn.on(DescribeStacksCommand).callsFake(async (input: { StackName?: string }, getClient) => {
      this.maybeThrottle('DescribeStacksCommand');
      const region = await regionOf(getClient);
      const view = (s: FakeStack) => ({
        StackName: s.name,
        StackStatus: s.status,
        CreationTime: new Date(),
        ...(s.status.includes('FAILED') || s.status.includes('ROLLBACK')
          ? { StackStatusReason: 'The following resource(s) failed to create: [Instance].' }
          : {}),
        Tags: s.input.Tags,
        Outputs:
          s.status === 'CREATE_COMPLETE'
            ? Object.entries(s.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }))
            : [],
      });
      if (input.StackName === undefined && this.options.listRefused.has(region)) {
        throw awsError('InvalidClientTokenId', 'The security token included in the request is invalid.');
      }
      if (input.StackName === undefined) {
        return {
          Stacks: [...this.stacks.values()]
            .filter((s) => s.region === region && s.status !== 'DELETE_COMPLETE')
            .map(view),
        };
      }
      const stack = this.find(region, input.StackName);
      if (stack === undefined)
        throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
      this.advance(stack);
      if (stack.status === 'DELETE_COMPLETE') {
        throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
      }
      return { Stacks: [view(stack)] };
    });
    this.cfn.on(DeleteStackCommand).callsFake(async (input: { StackName?: string }, getClient) => {
      this.maybeThrottle('DeleteStackCommand');
      const region = await regionOf(getClient);
      const stack = this.find(region, input.StackName ?? '');
      if (stack !== undefined && this.options.deleteRefused.has(stack.part)) {
        throw awsError(
          'AccessDenied',
          `User is not authorized to perform: cloudformation:DeleteStack on ${stack.name}`,
        );
      }
      if (stack !== undefined && stack.status !== 'DELETE_IN_PROGRESS') {
        stack.status = 'DELETE_IN_PROGRESS';
        stack.polls = 0;
      }
      return {};
    });
    this.cfn.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        {
          LogicalResourceId: 'Stack',
          ResourceStatus: 'ROLLBACK_IN_PROGRESS',
          ResourceStatusReason: 'rollback requested',
          StackId: 's',
          StackName: 's',
          EventId: '2',
          Timestamp: new Date(),
        },
        {
          LogicalResourceId: 'Instance',
          ResourceStatus: 'CREATE_FAILED',
          ResourceStatusReason: 'The requested configuration is currently not supported.',
          StackId: 's',
          StackName: 's',
          EventId: '1',
          Timestamp: new Date(),
        },
      ],
    });

    this.ssm
      .on(DescribeInstanceInformationCommand)
      .callsFake(async (input: { Filters?: Array<{ Values?: string[] }> }) => {
        this.maybeThrottle('DescribeInstanceInformationCommand');
        this.onlineCalls += 1;
        const online = this.onlineCalls >= this.options.onlineAfter;
        const ids = input.Filters?.[0]?.Values ?? [];
        return {
          InstanceInformationList: ids.map((InstanceId) => ({
            InstanceId,
            PingStatus: online ? 'Online' : 'ConnectionLost',
          })),
        };
      });
    this.ssm.on(ListCommandsCommand).callsFake(async (input: { InstanceId?: string }) => ({
      Commands: this.commands
        .filter((c) => c.instanceId === input.InstanceId)
        .map((c) => ({ CommandId: c.id, Comment: c.comment })),
    }));
    this.ssm
      .on(SendCommandCommand)
      .callsFake(
        async (
          input: { InstanceIds?: string[]; Comment?: string; Parameters?: Record<string, string[]> },
          getClient,
        ) => {
          this.maybeThrottle('SendCommandCommand');
          const region = await regionOf(getClient);
          const comment = input.Comment ?? '';
          const script = input.Parameters?.commands ?? [];
          const shellValue = (name: string): string | undefined =>
            script.find((line) => line.startsWith(`${name}='`))?.slice(name.length + 2, -1);
          const bucket = shellValue('BUCKET');
          const upload = shellValue('UPLOAD');
          const configLine = script.findIndex((line) => line.startsWith('cat > config.json'));
          const command: FakeCommand = {
            id: `cmd-${this.commands.length + 1}`,
            region,
            instanceId: input.InstanceIds?.[0] ?? '',
            comment,
            polls: 0,
            role: comment.split(' ')[2] ?? '',
            ...(bucket !== undefined && upload !== undefined ? { uploadTo: `${bucket}/${upload}` } : {}),
            ...(configLine >= 0
              ? { config: JSON.parse(script[configLine + 1] ?? '{}') as Record<string, unknown> }
              : {}),
          };
          this.commands.push(command);
          return { Command: { CommandId: command.id } };
        },
      );
    this.ssm.on(GetCommandInvocationCommand).callsFake(async (input: { CommandId?: string }) => {
      this.maybeThrottle('GetCommandInvocationCommand');
      const command = this.commands.find((c) => c.id === input.CommandId);
      if (command === undefined) throw awsError('InvocationDoesNotExist', 'no such invocation');
      command.polls += 1;
      if (command.polls < this.options.commandPolls) return { Status: 'InProgress' };
      const outcome = this.options.commandOutcome[command.role] ?? { status: 'Success', code: 0 };
      if (outcome.status === 'InProgress') return { Status: 'InProgress' };
      if (command.polls === this.options.commandPolls) this.upload(command);
      return {
        Status: outcome.status,
        ResponseCode: outcome.code ?? 0,
        StandardErrorContent: outcome.stderr ?? '',
      };
    });

    this.s3
      .on(PutObjectCommand)
      .callsFake(async (input: { Bucket?: string; Key?: string; Body?: unknown }) => {
        const body = input.Body;
        this.objects.set(
          `${input.Bucket}/${input.Key}`,
          Buffer.from(typeof body === 'string' ? body : (body as Uint8Array)),
        );
        return {};
      });
    this.s3.on(GetObjectCommand).callsFake(async (input: { Bucket?: string; Key?: string }) => {
      const body = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (body === undefined) throw awsError('NoSuchKey', 'The specified key does not exist.');
      return { Body: Readable.from([body]) as never };
    });
    this.s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket?: string; Prefix?: string }) => ({
      Contents: [...this.objects.keys()]
        .filter((k) => k.startsWith(`${input.Bucket}/${input.Prefix ?? ''}`))
        .map((k) => ({ Key: k.slice(`${input.Bucket}/`.length) })),
      IsTruncated: false,
    }));
  }
}

const context = {
  functionName: 'feedpath-test',
  awsRequestId: 'test',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Parameters<typeof prepare>[1];

/** The deployed Lambda handlers, as the local runner's handlers: the workflow runs over the fake cloud. */
export function lambdaHandlers(): LocalTaskHandlers {
  return {
    prepare: (event) => prepare(event, context),
    provisionSites: (event) => provisionSites(event, context),
    describeSites: (event) => describeSites(event, context),
    connectSites: (event) => connectSites(event, context),
    connectAgents: (event) => connectAgents(event, context),
    startAgent: (event) => startAgent(event, context),
    pollAgents: (event) => pollAgents(event, context),
    analyze: (event) => analyze(event, context),
    teardown: (event) => teardown(event, context),
  };
}
