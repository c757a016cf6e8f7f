/**
 * The real definition with three receiver regions (`receiverRegions`), over the stateful fake cloud
 * (test/cloud-fake.ts): one forwarder relays to every receiver over a peering per region, each
 * receiver's files land under `receivers/<region>/`, and a fault in one region's provisioning
 * leaves nothing behind in any region, whether it fails the run or only drops the region.
 */
import type { RunCost } from '../lib/cloud/cost';
import { runWorkflowLocally } from '../cli/workflow';
import { WorkflowErrorName } from '../lib/cloud/errors';
import { checkRunFile } from '../lib/run-file';
import {
  BUCKET,
  FakeCloud,
  FAST,
  lambdaHandlers,
  useLambdaEnvironment,
  type FakeCloudOptions,
} from './cloud-fake';

/** Three receivers; the forwarder stays in Tokyo (one receiver shares its region: peered within it). */
const REGIONS = ['eu-central-1', 'us-east-1', 'ap-northeast-1'];

let cloud: FakeCloud;

function start(options: Partial<FakeCloudOptions> = {}): FakeCloud {
  cloud = new FakeCloud(options);
  return cloud;
}

function object(key: string): string | undefined {
  return cloud.objects.get(`${BUCKET}/${key}`)?.toString();
}

/** The run's prefix, from the input.json PrepareRun wrote. */
function runPrefix(): string {
  const key = [...cloud.objects.keys()].find((k) => k.endsWith('/input.json')) as string;
  return key.slice(`${BUCKET}/`.length, -'input.json'.length);
}

beforeAll(() => {
  useLambdaEnvironment();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  cloud.restore();
});

describe('workflow with several receiver regions', () => {
  it('provisions, peers, runs and analyses every receiver region, then deletes all ten stacks', async () => {
    start();

    const result = await runWorkflowLocally({ receiverRegions: REGIONS }, lambdaHandlers(), FAST);

    expect({ status: result.status, error: result.error, cause: result.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    const parts = cloud.created.map((s) =>
      s.replace(/^([^/]+)\/feedpath-test-run-\d{8}-\d{6}-[a-z0-9]{4}-/, '$1 '),
    );
    expect(parts.sort()).toEqual(
      [
        ...REGIONS.map((r) => `${r} receiver-${r}`),
        'ap-northeast-1 forwarder',
        ...REGIONS.map((r) => `ap-northeast-1 peering-${r}`),
        ...REGIONS.map((r) => `${r} peering-routes-${r}`),
      ].sort(),
    );
    expect(cloud.live()).toEqual([]);
    expect([...cloud.deleted].sort()).toEqual([...cloud.created].sort());

    // Each receiver its own VPC range (10.10/16, 10.11/16, 10.12/16), none the forwarder's.
    const cidrs = REGIONS.map((region) => {
      const stack = [...cloud.stacks.values()].find((s) => s.region === region && s.part === 'receiver');
      return stack?.input.Parameters?.find((p) => p.ParameterKey === 'VpcCidr')?.ParameterValue;
    });
    expect(cidrs).toEqual(['10.10.0.0/16', '10.11.0.0/16', '10.12.0.0/16']);

    // One receiver command per region, uploading under receivers/<region>/; the forwarder relays to all three.
    const prefix = runPrefix();
    const receivers = cloud.commands.filter((c) => c.role === 'receiver');
    expect(receivers.map((c) => c.region).sort()).toEqual([...REGIONS].sort());
    for (const command of receivers) {
      expect(command.uploadTo).toBe(`${BUCKET}/${prefix}receivers/${command.region}/`);
    }
    const forwarder = cloud.commands.find((c) => c.role === 'forwarder');
    expect(forwarder?.uploadTo).toBe(`${BUCKET}/${prefix}`);
    expect(forwarder?.config?.receivers).toEqual([
      { host: '10.10.0.10', port: 9100 },
      { host: '10.11.0.10', port: 9100 },
      { host: '10.12.0.10', port: 9100 },
    ]);

    // The seed formats per receiver, and the matrix report at the run's prefix.
    for (const region of REGIONS) {
      expect(object(`${prefix}receivers/${region}/baseline-results.csv`)).toMatch(/^sequence_id,/);
      expect(object(`${prefix}receivers/${region}/baseline-results.json`)).toBeDefined();
      expect(object(`${prefix}receivers/${region}/report.json`)).toBeDefined();
    }
    expect(object(`${prefix}baseline-results.csv`)).toBeUndefined();
    const matrix = JSON.parse(object(`${prefix}report.json`) as string) as {
      matrix: Array<{ receiver: string; region: string | null }>;
      overall: string;
    };
    expect(matrix.matrix.map((row) => row.region)).toEqual(REGIONS);
    expect((result.output as { verdict: string }).verdict).toBe(matrix.overall);
    // The whole run's cost in the matrix (four instances), none in a receiver's own report.
    const cost = (matrix as unknown as { cost?: RunCost }).cost;
    expect(cost?.items.filter((i) => i.item === 'ec2').length ?? 0).toBeGreaterThanOrEqual(4);
    expect(cost?.total_usd).toBeGreaterThan(0);
    expect(object(`${prefix}report.md`)).toContain('## What the run cost (estimate)');
    for (const region of REGIONS)
      expect(JSON.parse(object(`${prefix}receivers/${region}/report.json`) as string)).not.toHaveProperty(
        'cost',
      );
    // One history record per receiver, named by its region.
    const records = [...cloud.objects.keys()]
      .filter((k) => k.includes('/history/') && k.endsWith('.json') && k.includes(`@`))
      .map(
        (k) => (JSON.parse(cloud.objects.get(k)?.toString() ?? '{}') as { receiver: string | null }).receiver,
      );
    expect(records.sort()).toEqual([...REGIONS].sort());
    const runFile = checkRunFile(JSON.parse(object(`${prefix}run.json`) as string)).run;
    expect(runFile?.receivers?.map((r) => [r.name, r.region, r.dropped])).toEqual(
      REGIONS.map((r) => [r, r, undefined]),
    );
    expect(Object.keys(runFile?.placement?.receivers ?? {})).toEqual(REGIONS);
    // Every agent's connections in run.json: the forwarder's from the run's metrics/, each
    // receiver's from its own receivers/<region>/metrics/ (what each uploaded, in opening order).
    const uploaded = [prefix, ...REGIONS.map((r) => `${prefix}receivers/${r}/`)].flatMap(
      (folder) =>
        (
          JSON.parse(
            object(`${folder}metrics/${folder === prefix ? 'forwarder' : 'receiver'}.json`) as string,
          ) as {
            connections: unknown[];
          }
        ).connections,
    );
    expect(uploaded).toHaveLength(4);
    expect(runFile?.connections).toEqual(
      [...(uploaded as Array<{ opened_at: string }>)].sort((a, b) => a.opened_at.localeCompare(b.opened_at)),
    );
  });

  it('fails the run when one region’s site fails (regionFailure "fail"), leaving nothing in any region', async () => {
    start({ stackOutcome: { 'receiver@us-east-1': 'ROLLBACK_COMPLETE' } });

    const result = await runWorkflowLocally({ receiverRegions: REGIONS }, lambdaHandlers(), FAST);

    expect(result).toMatchObject({
      status: 'FAILED',
      lastState: 'Failed',
      error: WorkflowErrorName.stackFailed,
    });
    expect(result.cause).toMatch(/-receiver-us-east-1 \(us-east-1\) is ROLLBACK_COMPLETE/);
    expect(cloud.created).toHaveLength(4); // three receivers and the forwarder; no peering yet
    expect(cloud.live()).toEqual([]);
    expect([...cloud.deleted].sort()).toEqual([...cloud.created].sort());
    expect(cloud.commands).toEqual([]);
  });

  it('drops the failed region and measures the others (regionFailure "continue"), leaving nothing in any region', async () => {
    start({ stackOutcome: { 'receiver@us-east-1': 'ROLLBACK_COMPLETE' } });

    const result = await runWorkflowLocally(
      { receiverRegions: REGIONS, regionFailure: 'continue' },
      lambdaHandlers(),
      FAST,
    );

    expect(result).toMatchObject({ status: 'SUCCEEDED', lastState: 'Succeeded' });
    expect(cloud.live()).toEqual([]);
    expect([...cloud.deleted].sort()).toEqual([...cloud.created].sort());
    // No peering and no agent for the dropped region.
    expect(
      cloud.created.filter((s) => s.includes('us-east-1') && !s.endsWith('-receiver-us-east-1')),
    ).toEqual([]);
    expect(
      cloud.commands
        .filter((c) => c.role === 'receiver')
        .map((c) => c.region)
        .sort(),
    ).toEqual(['ap-northeast-1', 'eu-central-1']);
    const prefix = runPrefix();
    const runFile = checkRunFile(JSON.parse(object(`${prefix}run.json`) as string)).run;
    expect(runFile?.receivers?.find((r) => r.region === 'us-east-1')?.dropped).toMatch(/ROLLBACK_COMPLETE/);
    expect(runFile?.causes).toEqual([
      expect.objectContaining({
        what: 'receiver us-east-1',
        detail: expect.stringMatching(/region dropped/),
      }),
    ]);
    const matrix = JSON.parse(object(`${prefix}report.json`) as string) as {
      matrix: Array<{ receiver: string; region: string | null }>;
    };
    expect(matrix.matrix.map((row) => row.region)).toEqual(['eu-central-1', 'ap-northeast-1']);
  });

  it('fails even with regionFailure "continue" when every receiver region fails, and tears all down', async () => {
    start({ stackOutcome: { receiver: 'CREATE_FAILED' } });

    const result = await runWorkflowLocally(
      { receiverRegions: REGIONS, regionFailure: 'continue' },
      lambdaHandlers(),
      FAST,
    );

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.stackFailed });
    expect(cloud.live()).toEqual([]);
    expect(cloud.commands).toEqual([]);
  });

  it('rejects receiverRegion and receiverRegions that disagree, and a region listed twice, before creating anything', async () => {
    start();

    const both = await runWorkflowLocally(
      { receiverRegion: 'us-east-1', receiverRegions: REGIONS },
      lambdaHandlers(),
      FAST,
    );
    const twice = await runWorkflowLocally(
      { receiverRegions: ['us-east-1', 'us-east-1'] },
      lambdaHandlers(),
      FAST,
    );

    expect(both).toMatchObject({ lastState: 'PrepareFailed', error: WorkflowErrorName.invalidInput });
    expect(both.cause).toMatch(/receiverRegion: give either receiverRegion or receiverRegions/);
    expect(twice.cause).toMatch(/receiverRegions: a region is listed twice/);
    expect(cloud.created).toEqual([]);
  });
});
