/** `feedpath start` and `feedpath reports` against mocked Step Functions, CloudFormation and S3. */
import 'aws-sdk-client-mock-jest';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { executionInput, reportsCommand, startCommand, type AwsCommandDeps } from '../cli/aws';
import { ErrorCode } from '../lib/errors';

const sfn = mockClient(SFNClient);
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);

const STATE_MACHINE = 'arn:aws:states:eu-central-1:123456789012:stateMachine:feedpath-dev';
const EXECUTION = 'arn:aws:states:eu-central-1:123456789012:execution:feedpath-dev:nightly';
const PREFIX = 'runs/2026/11/22/20261122-020231-k3f9/';
const OBJECTS: Record<string, string> = {
  [`${PREFIX}input.json`]: '{}',
  [`${PREFIX}agents/receiver.js`]: '// bundle',
  [`${PREFIX}baseline-results.csv`]: 'sequence_id\n1\n',
  [`${PREFIX}report.json`]: '{"verdict":"Backbone delivered 62% of events first."}',
  [`${PREFIX}report.md`]: '# feedpath report\n\nBackbone delivered 62% of events first.\n',
  [`${PREFIX}report.html`]: '<html></html>',
  'runs/2026/11/21/20261121-180000-abcd/input.json': '{}',
};

let out: string;
let lines: string[];
let d: Partial<AwsCommandDeps>;

function entered(id: number, name: string): HistoryEvent {
  return {
    id,
    type: 'TaskStateEntered',
    timestamp: new Date(Date.UTC(2026, 10, 22, 2, 2, 31 + id)),
    stateEnteredEventDetails: { name },
  };
}

beforeEach(() => {
  sfn.reset();
  cfn.reset();
  s3.reset();
  out = mkdtempSync(join(tmpdir(), 'feedpath-cli-'));
  lines = [];
  d = { print: (line) => lines.push(line), sleep: async () => undefined };
  cfn.on(DescribeStacksCommand, { StackName: 'feedpath-dev' }).resolves({
    Stacks: [
      {
        StackName: 'feedpath-dev',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [
          { OutputKey: 'StateMachineArn', OutputValue: STATE_MACHINE },
          { OutputKey: 'ResultsBucketName', OutputValue: 'feedpath-dev-results' },
        ],
      },
    ],
  });
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: Object.keys(OBJECTS)
      .filter((k) => k.startsWith(input.Prefix))
      .map((Key) => ({ Key })),
    IsTruncated: false,
  }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = OBJECTS[input.Key];
    if (body === undefined) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
    return { Body: Readable.from([Buffer.from(body)]) as never };
  });
});

afterEach(() => rmSync(out, { recursive: true, force: true }));

describe('feedpath start', () => {
  it('starts the deployed workflow with the given options, follows its states and saves and prints the report', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: EXECUTION, startDate: new Date(Date.UTC(2026, 10, 22, 2, 2, 31)) });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: [entered(2, 'ProvisionSites'), entered(1, 'PrepareRun')] })
      .resolvesOnce({
        events: [entered(4, 'TeardownRun'), entered(3, 'AnalyzeResults'), entered(2, 'ProvisionSites')],
      });
    const analysis = {
      runId: '20261122-020231-k3f9',
      bucket: 'feedpath-dev-results',
      prefix: PREFIX,
      report: { json: `${PREFIX}report.json`, markdown: `${PREFIX}report.md`, html: `${PREFIX}report.html` },
      verdict: 'Backbone delivered 62% of events first.',
    };
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolvesOnce({ status: 'SUCCEEDED', output: JSON.stringify(analysis) } as never);

    const result = await startCommand(
      { duration: 60, streams: 'btcusdt@trade', label: 'nightly', name: 'nightly', out },
      d,
    );

    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE,
      name: 'nightly',
      input: JSON.stringify({ durationSeconds: 60, streams: 'btcusdt@trade', label: 'nightly' }),
    });
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, {
      executionArn: EXECUTION,
      reverseOrder: true,
    });
    expect(lines.filter((l) => l.startsWith('['))).toEqual([
      '[00:01] PrepareRun',
      '[00:02] ProvisionSites',
      '[00:03] AnalyzeResults',
      '[00:04] TeardownRun',
    ]);
    expect(result).toMatchObject({ status: 'SUCCEEDED', executionArn: EXECUTION, analysis, reportDir: out });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toBe('<html></html>');
    expect(existsSync(join(out, 'agents', 'receiver.js'))).toBe(false);
    expect(existsSync(join(out, 'baseline-results.csv'))).toBe(false);
    expect(lines).toContain('\n# feedpath report\n\nBackbone delivered 62% of events first.\n');
  });

  it('reports a failed execution with its error and cause', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      error: 'AgentsOffline',
      cause: 'instances not online in SSM after 60 polls',
    } as never);

    const result = await startCommand({}, d);

    expect(result).toEqual({
      status: 'FAILED',
      executionArn: EXECUTION,
      error: 'AgentsOffline',
      cause: 'instances not online in SSM after 60 polls',
    });
    expect(lines.at(-1)).toBe('FAILED: AgentsOffline — instances not online in SSM after 60 polls');
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { input: '{}' });
  });

  it('rejects a bad option before starting anything, naming it', async () => {
    await expect(startCommand({ duration: 5 }, d)).rejects.toMatchObject({
      code: ErrorCode.badInput,
      message: expect.stringMatching(/^durationSeconds: /),
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('says how to deploy when the stage is not deployed', async () => {
    cfn
      .on(DescribeStacksCommand, { StackName: 'feedpath-prod' })
      .rejects(
        Object.assign(new Error('Stack with id feedpath-prod does not exist'), { name: 'ValidationError' }),
      );

    await expect(startCommand({ stage: 'prod', region: 'eu-west-1' }, d)).rejects.toMatchObject({
      code: ErrorCode.badInput,
      message:
        'no feedpath deployment "feedpath-prod" in eu-west-1: deploy it first (docs/aws.md), or give --stage / --region',
    });
  });
});

describe('feedpath reports', () => {
  it('lists the runs in the bucket, newest first', async () => {
    const { runs } = await reportsCommand({}, d);

    expect(runs.map((r) => [r.runId, r.date, r.hasReport])).toEqual([
      ['20261122-020231-k3f9', '2026-11-22', true],
      ['20261121-180000-abcd', '2026-11-21', false],
    ]);
    expect(lines[0]).toBe(
      `20261122-020231-k3f9  2026-11-22  report  6 files  s3://feedpath-dev-results/${PREFIX}`,
    );
  });

  it('fetches one run’s folder, CSVs included with `all`, and prints its verdict', async () => {
    const { fetched } = await reportsCommand({ run: '20261122-020231-k3f9', out, all: true }, d);

    expect(fetched?.files.map((f) => f.slice(out.length + 1)).sort()).toEqual([
      'baseline-results.csv',
      'input.json',
      'report.html',
      'report.json',
      'report.md',
    ]);
    expect(lines[0]).toBe('Backbone delivered 62% of events first.');
  });

  it('names a run that is not in the bucket', async () => {
    await expect(reportsCommand({ run: 'nope' }, d)).rejects.toMatchObject({
      code: ErrorCode.badInput,
      message: expect.stringContaining('no run nope'),
    });
  });
});

describe('feedpath start: several receiver regions', () => {
  it('turns --receiver-regions and --region-failure into the input the workflow validates', () => {
    expect(
      executionInput({ receiverRegions: 'eu-central-1, eu-west-2,us-east-1', regionFailure: 'continue' }),
    ).toEqual({ receiverRegions: ['eu-central-1', 'eu-west-2', 'us-east-1'], regionFailure: 'continue' });
    // The workflow's own schema refuses what it would refuse: a region named twice.
    expect(() => executionInput({ receiverRegions: 'eu-central-1,eu-central-1' })).toThrow(/receiverRegions/);
  });
});
