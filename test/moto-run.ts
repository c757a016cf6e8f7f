/**
 * What the moto suites share (test/moto.test.ts, test/moto-regions.test.ts): the shim started once
 * per file with the Lambda environment pointed at it, a fresh deployment before each case, clients
 * on moto, and what a run leaves behind in the deployment's regions.
 */
import { CloudFormationClient, ListStacksCommand, type StackSummary } from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreatePolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { resetLambdaCloud } from '../lib/cloud/lambda';
import { stackNamePrefix } from '../lib/cloud/run';
import { BUCKET, TEST_ENV, useLambdaEnvironment } from './cloud-fake';
import { MotoShim } from './moto-shim';

export { BUCKET, FAST } from './cloud-fake';
export const REGION: string = TEST_ENV.AWS_REGION;
export const STACK_ROLE = TEST_ENV.FEEDPATH_STACK_ROLE_ARN.split('/')[1] as string;
/** Every region the deployment allows. */
export const REGIONS = TEST_ENV.FEEDPATH_REGIONS.split(',');

export class MotoRun {
  /** Set by {@link useMotoRun}'s beforeAll. */
  shim!: MotoShim;

  client<C>(Client: new (config: object) => C, region: string = REGION): C {
    return new Client({ region, endpoint: this.shim.motoEndpoint, forcePathStyle: true });
  }

  /** The stage's stacks CloudFormation still knows (not DELETE_COMPLETE) in the deployment's regions. */
  async stacksLeft(): Promise<string[]> {
    const left: string[] = [];
    for (const region of REGIONS) {
      const client = this.client(CloudFormationClient, region);
      const summaries: StackSummary[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListStacksCommand({ NextToken: token }));
        summaries.push(...(page.StackSummaries ?? []));
        token = page.NextToken;
      } while (token !== undefined);
      for (const s of summaries) {
        if (s.StackStatus !== 'DELETE_COMPLETE' && s.StackName?.startsWith(stackNamePrefix('test')))
          left.push(`${region}/${s.StackName}`);
      }
      client.destroy();
    }
    return left.sort();
  }

  /** Instances moto's EC2 still runs in the deployment's regions, as `region/id`. */
  async instancesRunning(): Promise<string[]> {
    const running: string[] = [];
    for (const region of REGIONS) {
      const ec2 = this.client(EC2Client, region);
      const { Reservations } = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }],
        }),
      );
      for (const r of Reservations ?? [])
        for (const i of r.Instances ?? []) running.push(`${region}/${i.InstanceId}`);
      ec2.destroy();
    }
    return running.sort();
  }

  /** An object of the results bucket, as text. */
  async readObject(key: string): Promise<string> {
    const s3 = this.client(S3Client);
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const text = (await Body?.transformToString()) ?? '';
    s3.destroy();
    return text;
  }

  /** What the deployment has before any run: the bucket, the stack role and the instance boundary. */
  async deploy(): Promise<void> {
    const s3 = this.client(S3Client);
    await s3.send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: TEST_ENV.AWS_REGION },
      }),
    );
    const iam = this.client(IAMClient, 'us-east-1');
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
    const { Policy } = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'feedpath-test-run-instance-boundary',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
        }),
      }),
    );
    expect(Policy?.Arn).toBe(TEST_ENV.FEEDPATH_INSTANCE_BOUNDARY_ARN);
    s3.destroy();
    iam.destroy();
  }
}

/**
 * Inside a `describe`: starts the shim for the file with the Lambda environment pointed at it,
 * resets moto and deploys before each case, and restores the environment after the file.
 */
export function useMotoRun(moto = new MotoRun()): MotoRun {
  let savedEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    savedEnv = { ...process.env };
    moto.shim = await MotoShim.start(BUCKET);
    useLambdaEnvironment();
    process.env.AWS_ENDPOINT_URL = moto.shim.endpoint;
    resetLambdaCloud();
    // The Lambdas log their progress for CloudWatch, and the analysis its EMF metrics on stdout.
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
    await moto.shim?.stop();
  });

  beforeEach(async () => {
    await moto.shim.reset();
    resetLambdaCloud();
    await moto.deploy();
  });
  return moto;
}
