/**
 * `serverless package` (osls) with no AWS credentials, as CI runs it: the generated template holds
 * the state machine (our definition, its Lambdas wired by Fn::GetAtt), the Lambdas, the schedule
 * (disabled unless asked for) and the results bucket, encrypted and private. ~15 s.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { taskFunctions } from '../cli/workflow';
import { ANALYZE_LAMBDA_GB, DEFAULT_LAMBDA_GB } from '../lib/cloud/cost';
import { parseExperimentInput } from '../lib/cloud/input';

const run = promisify(execFile);
const root = join(__dirname, '..');
const serverless = join(root, 'node_modules', '.bin', 'serverless');

type Resource = { Type: string; Properties: Record<string, unknown> };

/** The environment without AWS credentials or profile: packaging must not need them. */
function credentialFreeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_SDK_LOAD_CONFIG: '0',
    HOME: mkdtempSync(join(tmpdir(), 'feedpath-home-')),
  };
  for (const key of Object.keys(env))
    if (key.startsWith('AWS_') && key !== 'AWS_SDK_LOAD_CONFIG') delete env[key];
  return env;
}

/** Names of the files in a zip archive (its central directory). */
function zipEntries(path: string): string[] {
  const zip = readFileSync(path);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

describe('serverless package', () => {
  const out = mkdtempSync(join(tmpdir(), 'feedpath-package-'));
  let resources: Record<string, Resource>;
  let outputs: Record<string, unknown>;

  beforeAll(async () => {
    await run(serverless, ['package', '--stage', 'ci', '--region', 'eu-central-1', '--package', out], {
      cwd: root,
      env: credentialFreeEnv(),
      timeout: 170_000,
    });
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
    resources = template.Resources;
    outputs = template.Outputs;
  }, 180_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  it('holds the state machine with our definition, each Task wired to its Lambda', () => {
    const machine = resources.FeedpathStateMachine as Resource;
    const [body, substitutions] = (
      machine.Properties.DefinitionString as { 'Fn::Sub': [string, Record<string, unknown>] }
    )['Fn::Sub'];
    const deployed = JSON.parse(body);
    const local = JSON.parse(readFileSync(join(root, 'statemachine', 'feedpath.asl.json'), 'utf8'));

    expect(machine.Properties.StateMachineName).toBe('feedpath-ci');
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['StateMachineRole', 'Arn'] });
    expect(Object.keys(deployed.States)).toEqual(Object.keys(local.States));
    expect(deployed.TimeoutSeconds).toBe(local.TimeoutSeconds);
    const wired = Object.keys(taskFunctions()).map((state) => {
      const placeholder = deployed.States[state].Parameters.FunctionName as string;
      return (substitutions[placeholder.slice(2, -1)] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    });
    const expected = Object.values(taskFunctions()).map(
      (fn) => `${fn[0]?.toUpperCase()}${fn.slice(1)}LambdaFunction`,
    );
    expect(wired).toEqual(expected);
  });

  it('holds the Lambdas, each with its own role, and only the workflow may invoke them', () => {
    const functions = Object.fromEntries(
      ofType('AWS::Lambda::Function').map(([id, r]) => [id, r.Properties]),
    );
    const workflowFunctions = [...new Set(Object.values(taskFunctions()))].map(
      (fn) => `${fn[0]?.toUpperCase()}${fn.slice(1)}LambdaFunction`,
    );

    expect(Object.keys(functions).sort()).toEqual(
      [...workflowFunctions, 'SweeperLambdaFunction', 'RecordExecutionLambdaFunction'].sort(),
    );
    for (const fn of Object.values(functions)) {
      expect(fn).toMatchObject({
        Runtime: 'nodejs22.x',
        Role: { 'Fn::GetAtt': [expect.stringMatching(/Role$/), 'Arn'] },
      });
    }
    expect(functions.AnalyzeLambdaFunction).toMatchObject({ MemorySize: 2048 });
    // The cost estimate prices the Lambdas at these sizes (lib/cloud/cost.ts): the workflow's
    // Lambdas other than the analysis run at the provider's default.
    expect(functions.AnalyzeLambdaFunction?.MemorySize).toBe(ANALYZE_LAMBDA_GB * 1024);
    const polling = workflowFunctions.filter((id) => id !== 'AnalyzeLambdaFunction');
    expect(polling.map((id) => [id, functions[id]?.MemorySize])).toEqual(
      polling.map((id) => [id, DEFAULT_LAMBDA_GB * 1024]),
    );
    const invoke = (
      (resources.StateMachineRole as Resource).Properties.Policies as Array<{
        PolicyDocument: { Statement: Array<{ Action: string; Resource: unknown[] }> };
      }>
    )[0]?.PolicyDocument.Statement[0];
    expect(invoke?.Action).toBe('lambda:InvokeFunction');
    expect(invoke?.Resource).toEqual(workflowFunctions.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
  });

  it('lets the CloudFormation role tag only at creation or its own stage, and make roles only with the run boundary', () => {
    type Statement = {
      Sid?: string;
      Action: string | string[];
      Resource: unknown;
      Condition?: Record<string, Record<string, unknown>>;
    };
    const statements = (
      (resources.CloudFormationRole as Resource).Properties.Policies as Array<{
        PolicyDocument: { Statement: Statement[] };
      }>
    ).flatMap((p) => p.PolicyDocument.Statement);
    const granting = (action: string) =>
      statements.filter((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]).includes(action));

    // Tagging: never without a condition (a stage tag on any resource would make it deletable).
    expect(granting('ec2:CreateTags').map((st) => st.Condition)).toEqual([
      { StringEquals: { 'ec2:CreateAction': expect.arrayContaining(['CreateVpc', 'RunInstances']) } },
      { StringEquals: { 'aws:ResourceTag/feedpath:stage': 'ci' } },
    ]);
    // Roles: created, given policies or attached only with the run instance boundary.
    const boundary = { Ref: 'RunInstanceBoundary' };
    for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy']) {
      expect(granting(action).map((st) => st.Condition?.StringEquals?.['iam:PermissionsBoundary'])).toEqual([
        boundary,
      ]);
    }
    expect(resources.RunInstanceBoundary?.Type).toBe('AWS::IAM::ManagedPolicy');
    // Every destructive EC2 action needs the stage's tag.
    for (const st of statements) {
      const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
      if (actions.some((a) => /^ec2:(Delete|Terminate|Detach|Disassociate|Revoke)/.test(a)))
        expect(st.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/feedpath:stage': 'ci' } });
    }
  });

  it('schedules the workflow but leaves the schedule disabled by default', () => {
    const rules = ofType('AWS::Events::Rule').map(
      ([, r]) => r.Properties as { State: string; Targets: Array<{ Arn: unknown; Input?: string }> },
    );
    const workflowRule = rules.find(
      (r) => JSON.stringify(r.Targets[0]?.Arn) === JSON.stringify({ Ref: 'FeedpathStateMachine' }),
    );
    const sweeperRule = rules.find((r) =>
      JSON.stringify(r.Targets[0]?.Arn).includes('SweeperLambdaFunction'),
    );

    expect(workflowRule).toMatchObject({ State: 'DISABLED', Targets: [{ Input: '{"label":"scheduled"}' }] });
    expect(sweeperRule).toMatchObject({ State: 'ENABLED', ScheduleExpression: 'rate(1 hour)' });
  });

  it('creates the results bucket encrypted, private, TLS-only, with a lifecycle', () => {
    const bucket = (resources.ResultsBucket as Resource & { DeletionPolicy: string }).Properties;
    const policy = (resources.ResultsBucketPolicy as Resource).Properties.PolicyDocument as {
      Statement: unknown[];
    };

    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true },
      ],
    });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(
      (bucket.LifecycleConfiguration as { Rules: Array<{ Id: string }> }).Rules.map((r) => r.Id),
    ).toEqual(['results-to-infrequent-access', 'expire-results', 'abort-incomplete-uploads']);
    expect(outputs).toHaveProperty('ResultsBucketName');
    expect(outputs).toHaveProperty('StateMachineArn');
  });

  it('packages the agent bundles with the prepare Lambda, which stages them for the instances', () => {
    expect(zipEntries(join(out, 'prepare.zip'))).toEqual(
      expect.arrayContaining(['functions/prepare.js', 'dist/agents/receiver.js', 'dist/agents/forwarder.js']),
    );
    expect(zipEntries(join(out, 'teardown.zip'))).not.toContain('dist/agents/receiver.js');
  });

  it('switches the schedule on with --param="schedule=rate(6 hours)"', async () => {
    const { stdout } = await run(
      serverless,
      ['print', '--format', 'json', '--param=schedule=rate(6 hours)'],
      {
        cwd: root,
        env: credentialFreeEnv(),
        timeout: 60_000,
      },
    );
    const config = JSON.parse(stdout.slice(stdout.indexOf('{')));

    expect(config.stepFunctions.stateMachines.feedpath.events[0].schedule).toMatchObject({
      rate: 'rate(6 hours)',
      enabled: true,
    });
  }, 60_000);

  it("gives the scheduled executions docs/aws.md's zone-sweep input with --param=scheduleInput", async () => {
    const docs = readFileSync(join(root, 'docs', 'aws.md'), 'utf8');
    const param = /--param='(scheduleInput=\{.*\})'/.exec(docs)?.[1] ?? '';

    const { stdout } = await run(serverless, ['print', '--format', 'json', `--param=${param}`], {
      cwd: root,
      env: credentialFreeEnv(),
      timeout: 60_000,
    });

    const config = JSON.parse(stdout.slice(stdout.indexOf('{')));
    const input = config.stepFunctions.stateMachines.feedpath.events[0].schedule.input as string;
    expect(parseExperimentInput(JSON.parse(input), ['ap-northeast-1', 'eu-central-1'])).toMatchObject({
      label: 'az-sweep',
      receiverAzId: ['euc1-az1', 'euc1-az2', 'euc1-az3'],
    });
  }, 60_000);

  it('has the Athena history table by default and no alarm', () => {
    const table = resources.HistoryTable as Resource;
    const parameters = (table.Properties.TableInput as { Parameters: Record<string, string> }).Parameters;

    expect(table.Type).toBe('AWS::Glue::Table');
    expect(parameters['projection.enabled']).toBe('true');
    expect(resources).not.toHaveProperty('BackboneNotWinningAlarm');
    expect(resources).toHaveProperty('ExecutionEndRule');
  });

  it('adds the alarm with --param=alarm=on and leaves Athena out with --param=athena=off', async () => {
    const { stdout } = await run(
      serverless,
      ['print', '--format', 'json', '--param=alarm=on', '--param=athena=off'],
      {
        cwd: root,
        env: credentialFreeEnv(),
        timeout: 60_000,
      },
    );
    const config = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
      resources: Array<{ Resources?: Record<string, Resource> }> | { Resources?: Record<string, Resource> };
    };
    const fragments = Array.isArray(config.resources) ? config.resources : [config.resources];
    const printed = Object.assign({}, ...fragments.map((f) => f.Resources ?? {})) as Record<string, Resource>;

    expect(printed.BackboneNotWinningAlarm?.Type).toBe('AWS::CloudWatch::Alarm');
    expect(printed).not.toHaveProperty('HistoryTable');
    expect(printed).not.toHaveProperty('HistoryDatabase');
    expect(printed).toHaveProperty('ResultsBucket');
  }, 60_000);
});
