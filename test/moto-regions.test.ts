/**
 * Three receiver regions against moto (test/moto-shim.ts): the real definition and Lambda handlers,
 * stacks, instances and roles created by moto's CloudFormation in three regions. moto ignores
 * PeerRegion, so a peering across regions cannot complete there: these runs are baseline (a site
 * per region, no forwarder); the paired fan-out over three peerings is covered against the fake
 * cloud (test/workflow-regions.test.ts). The fault is one region's site rolling back.
 */
import { CloudFormationClient, ListStacksCommand, type StackSummary } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreatePolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runWorkflowLocally, type LocalTaskHandlers, type LocalWorkflowOptions } from '../cli/workflow';
import { WorkflowErrorName } from '../lib/cloud/errors';
import { resetLambdaCloud } from '../lib/cloud/lambda';
import { stackNamePrefix } from '../lib/cloud/run';
import { runFileSchema } from '../lib/run-file';
import { lambdaHandlers, TEST_ENV, useLambdaEnvironment } from './cloud-fake';
import { motoAvailable, MotoShim } from './moto-shim';

const FAST: LocalWorkflowOptions = { pollWaitMs: 0, runWaitMs: 0, retryIntervalMs: 0 };
const BUCKET = TEST_ENV.FEEDPATH_BUCKET;
const REGION: string = TEST_ENV.AWS_REGION;
const STACK_ROLE = TEST_ENV.FEEDPATH_STACK_ROLE_ARN.split('/')[1] as string;
/** Every region the deployment allows, each with a receiver. */
const REGIONS = TEST_ENV.FEEDPATH_REGIONS.split(',');
const THREE = { mode: 'baseline', durationSeconds: 60, receiverRegions: REGIONS };

const available = motoAvailable();
const describeMoto = available ? describe : describe.skip;

let shim: MotoShim;
let savedEnv: NodeJS.ProcessEnv;

function motoClient<C>(Client: new (config: object) => C, region: string = REGION): C {
  return new Client({ region, endpoint: shim.motoEndpoint, forcePathStyle: true });
}

/** Stacks (not DELETE_COMPLETE) and running instances of the stage, in every region. */
async function leftovers(): Promise<{ stacks: string[]; instances: string[] }> {
  const stacks: string[] = [];
  const instances: string[] = [];
  for (const region of REGIONS) {
    const cfn = motoClient(CloudFormationClient, region);
    const summaries: StackSummary[] = [];
    let token: string | undefined;
    do {
      const page = await cfn.send(new ListStacksCommand({ NextToken: token }));
      summaries.push(...(page.StackSummaries ?? []));
      token = page.NextToken;
    } while (token !== undefined);
    for (const s of summaries) {
      if (s.StackStatus !== 'DELETE_COMPLETE' && s.StackName?.startsWith(stackNamePrefix('test')))
        stacks.push(`${region}/${s.StackName}`);
    }
    cfn.destroy();
    const ec2 = motoClient(EC2Client, region);
    const { Reservations } = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }],
      }),
    );
    for (const r of Reservations ?? [])
      for (const i of r.Instances ?? []) instances.push(`${region}/${i.InstanceId}`);
    ec2.destroy();
  }
  return { stacks, instances };
}

/** The Lambda handlers, with every stack TeardownRun reports deleted collected in `deleted`. */
function handlersRecordingDeletions(): { handlers: LocalTaskHandlers; deleted: string[] } {
  const handlers = lambdaHandlers();
  const deleted: string[] = [];
  const teardown = handlers.teardown.bind(handlers);
  handlers.teardown = async (event) => {
    const result = await teardown(event);
    deleted.push(...result.deleted);
    return result;
  };
  return { handlers, deleted };
}

async function readObject(key: string): Promise<string> {
  const s3 = motoClient(S3Client);
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const text = (await Body?.transformToString()) ?? '';
  s3.destroy();
  return text;
}

/** The bucket, the stack role and the instance boundary a deployment has. */
async function deploy(): Promise<void> {
  const s3 = motoClient(S3Client);
  await s3.send(
    new CreateBucketCommand({
      Bucket: BUCKET,
      CreateBucketConfiguration: { LocationConstraint: TEST_ENV.AWS_REGION },
    }),
  );
  s3.destroy();
  const iam = motoClient(IAMClient, 'us-east-1');
  await iam.send(
    new CreateRoleCommand({
      RoleName: STACK_ROLE,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'cloudformation.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    }),
  );
  await iam.send(
    new CreatePolicyCommand({
      PolicyName: 'feedpath-test-run-instance-boundary',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
      }),
    }),
  );
  iam.destroy();
}

describeMoto('three receiver regions against moto', () => {
  beforeAll(async () => {
    savedEnv = { ...process.env };
    shim = await MotoShim.start(BUCKET);
    useLambdaEnvironment();
    process.env.AWS_ENDPOINT_URL = shim.endpoint;
    resetLambdaCloud();
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const write = process.stdout.write.bind(process.stdout) as (chunk: unknown) => boolean;
    jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: unknown) => String(chunk).startsWith('{"_aws"') || write(chunk));
  }, 30_000);

  afterAll(async () => {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    resetLambdaCloud();
    jest.restoreAllMocks();
    await shim?.stop();
  });

  beforeEach(async () => {
    await shim.reset();
    resetLambdaCloud();
    await deploy();
  });

  it('runs a site in each region to the matrix report, with each receiver’s files in its folder, and deletes all three', async () => {
    const { handlers, deleted } = handlersRecordingDeletions();

    const result = await runWorkflowLocally(THREE, handlers, FAST);

    expect({ lastState: result.lastState, error: result.error, cause: result.cause }).toEqual({
      lastState: 'Succeeded',
      error: undefined,
      cause: undefined,
    });
    expect(deleted.map((name) => name.replace(/^.*-receiver-/, '')).sort()).toEqual([...REGIONS].sort());
    const { prefix } = result.output as { prefix: string };
    for (const region of REGIONS) {
      expect(await readObject(`${prefix}receivers/${region}/baseline-results.csv`)).toMatch(/^sequence_id,/);
      expect(JSON.parse(await readObject(`${prefix}receivers/${region}/report.json`))).toEqual(
        expect.objectContaining({ verdict: expect.any(String) }),
      );
    }
    const matrix = JSON.parse(await readObject(`${prefix}report.json`)) as {
      matrix: Array<{ region: string | null }>;
    };
    expect(matrix.matrix.map((row) => row.region)).toEqual(REGIONS);
    const run = runFileSchema.parse(JSON.parse(await readObject(`${prefix}run.json`)));
    expect(Object.keys(run.placement?.receivers ?? {})).toEqual(REGIONS);
    expect(await leftovers()).toEqual({ stacks: [], instances: [] });
  });

  it('fails when one region’s site rolls back (regionFailure "fail") and leaves nothing in any region', async () => {
    shim.faults.rolledBack = ['-receiver-us-east-1'];
    const { handlers, deleted } = handlersRecordingDeletions();

    const result = await runWorkflowLocally(THREE, handlers, FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.stackFailed });
    expect(result.cause).toMatch(/-receiver-us-east-1 \(us-east-1\) is ROLLBACK_COMPLETE/);
    expect(result.states).not.toContain('RunReceiver');
    expect(deleted).toHaveLength(3); // every region's site, the rolled-back one included
    expect(await leftovers()).toEqual({ stacks: [], instances: [] });
  });

  it('drops the region whose site rolls back (regionFailure "continue"), measures the others, and leaves nothing', async () => {
    shim.faults.rolledBack = ['-receiver-us-east-1'];

    const result = await runWorkflowLocally({ ...THREE, regionFailure: 'continue' }, lambdaHandlers(), FAST);

    expect({ lastState: result.lastState, error: result.error }).toEqual({
      lastState: 'Succeeded',
      error: undefined,
    });
    const { prefix } = result.output as { prefix: string };
    const run = runFileSchema.parse(JSON.parse(await readObject(`${prefix}run.json`)));
    expect(run.receivers?.filter((r) => r.dropped !== undefined).map((r) => r.region)).toEqual(['us-east-1']);
    const matrix = JSON.parse(await readObject(`${prefix}report.json`)) as {
      matrix: Array<{ region: string | null }>;
    };
    expect(matrix.matrix.map((row) => row.region)).toEqual(REGIONS.filter((r) => r !== 'us-east-1'));
    expect(await leftovers()).toEqual({ stacks: [], instances: [] });
  });
});
