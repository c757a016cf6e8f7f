/**
 * Zones by AZ ID: the `forwarderAzId` / `receiverAzId` inputs, the choice of a site's zone against
 * EC2 (mocked by command), the pick from a list that sweeps zones, and run.json's placement.
 */
import 'aws-sdk-client-mock-jest';
import {
  DescribeAvailabilityZonesCommand,
  DescribeInstanceTypeOfferingsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { executionInput } from '../cli/aws';
import { handler as describeSites } from '../functions/describe-sites';
import { handler as prepare } from '../functions/prepare';
import { handler as provisionSites } from '../functions/provision-sites';
import { teardownOnlyInputSchema } from '../lib/cloud/cleanup';
import { WorkflowErrorName } from '../lib/cloud/errors';
import { parseExperimentInput } from '../lib/cloud/input';
import { runIdFor } from '../lib/cloud/run';
import { chooseZone, pickZone } from '../lib/cloud/zones';
import { runFileSchema } from '../lib/run-file';
import { failedHistoryRecord } from '../lib/history';
import { projectRoot } from '../lib/project-files';
import { sitesTable } from '../lib/report/sites';
import { FakeCloud, TEST_ENV, useLambdaEnvironment } from './cloud-fake';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REGIONS = ['ap-northeast-1', 'eu-central-1'];
const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Parameters<typeof prepare>[1];

describe('the AZ ID inputs', () => {
  it('are absent from {} (the automatic choice)', () => {
    const input = parseExperimentInput({}, REGIONS);

    expect(input).not.toHaveProperty('receiverAzId');
    expect(input).not.toHaveProperty('forwarderAzId');
  });

  it('take one AZ ID, a list, or a comma-separated string, and parse again to the same', () => {
    const one = parseExperimentInput({ receiverAzId: 'euc1-az2' }, REGIONS);
    const list = parseExperimentInput({ forwarderAzId: ['apne1-az4', 'apne1-az1'] }, REGIONS);
    const text = parseExperimentInput({ receiverAzId: 'euc1-az1, euc1-az3' }, REGIONS);

    expect(one.receiverAzId).toEqual(['euc1-az2']);
    expect(list.forwarderAzId).toEqual(['apne1-az4', 'apne1-az1']);
    expect(text.receiverAzId).toEqual(['euc1-az1', 'euc1-az3']);
    expect(parseExperimentInput(text, REGIONS)).toEqual(text);
  });

  it('come from `feedpath start --forwarder-az-id / --receiver-az-id` as given, checked before anything starts', () => {
    expect(executionInput({ forwarderAzId: 'apne1-az4', receiverAzId: 'euc1-az1,euc1-az2' })).toEqual({
      forwarderAzId: 'apne1-az4',
      receiverAzId: 'euc1-az1,euc1-az2',
    });
    expect(() => executionInput({ receiverAzId: 'eu-central-1a' })).toThrow(
      /receiverAzId\.0: expected an AZ ID/,
    );
  });

  it('refuse a zone name, a repeated ID, and a forwarder zone for a run without a forwarder', () => {
    expect(() => parseExperimentInput({ receiverAzId: 'eu-central-1a' }, REGIONS)).toThrow(
      /receiverAzId\.0: expected an AZ ID such as apne1-az4 \(not a zone name\)/,
    );
    expect(() => parseExperimentInput({ forwarderAzId: 'apne1-az4,apne1-az4' }, REGIONS)).toThrow(
      /forwarderAzId: an AZ ID is listed twice/,
    );
    expect(() => parseExperimentInput({ receiverAzId: [] }, REGIONS)).toThrow(/receiverAzId/);
    expect(() => parseExperimentInput({ mode: 'baseline', forwarderAzId: 'apne1-az4' }, REGIONS)).toThrow(
      /forwarderAzId: a baseline run has no forwarder/,
    );
  });
});

describe('chooseZone', () => {
  const ec2 = mockClient(EC2Client);
  const client = new EC2Client({ region: 'ap-northeast-1' });
  const request = {
    region: 'ap-northeast-1',
    instanceType: 'c7i.large',
    field: 'forwarderAzId',
    runId: '20261122-020231-k3f9',
    role: 'forwarder',
  };

  beforeEach(() => {
    ec2.reset();
    // EC2's order is not sorted; apne1-az3 does not offer the type, apne1-az9 is no zone of the region.
    ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({
      InstanceTypeOfferings: ['apne1-az4', 'apne1-az1', 'apne1-az2'].map((Location) => ({
        InstanceType: 'c7i.large',
        LocationType: 'availability-zone-id',
        Location,
      })),
    });
    ec2.on(DescribeAvailabilityZonesCommand).resolves({
      AvailabilityZones: ['apne1-az1', 'apne1-az2', 'apne1-az3', 'apne1-az4'].map((ZoneId) => ({ ZoneId })),
    });
  });

  afterAll(() => ec2.restore());

  it('takes the first AZ ID in sorted order that offers the type when none is pinned', async () => {
    await expect(chooseZone(client, request)).resolves.toBe('apne1-az1');

    expect(ec2).toHaveReceivedCommandWith(DescribeInstanceTypeOfferingsCommand, {
      LocationType: 'availability-zone-id',
      Filters: [{ Name: 'instance-type', Values: ['c7i.large'] }],
    });
    expect(ec2).not.toHaveReceivedCommand(DescribeAvailabilityZonesCommand);
  });

  it('takes the pinned AZ ID when it offers the type', async () => {
    await expect(chooseZone(client, { ...request, pinned: ['apne1-az4'] })).resolves.toBe('apne1-az4');
  });

  it('refuses a pinned zone that lacks the type or is not in the region, naming the zones that do', async () => {
    const error = await chooseZone(client, {
      ...request,
      pinned: ['apne1-az4', 'apne1-az3', 'apne1-az9'],
    }).catch((e: unknown) => e as Error);

    expect(error).toMatchObject({
      name: WorkflowErrorName.invalidInput,
      message:
        'invalid input: forwarderAzId: apne1-az3 does not offer c7i.large; ' +
        'apne1-az9 is not an availability zone of ap-northeast-1; ' +
        'the zones of ap-northeast-1 that offer c7i.large: apne1-az1, apne1-az2, apne1-az4',
    });
    expect(ec2).toHaveReceivedCommandWith(DescribeAvailabilityZonesCommand, { AllAvailabilityZones: true });
  });

  it('refuses a type that no zone of the region offers, pinned or not', async () => {
    ec2.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [] });

    await expect(chooseZone(client, { ...request, pinned: ['apne1-az4'] })).rejects.toThrow(
      'instanceType c7i.large is not offered in any availability zone of ap-northeast-1: choose another type',
    );
  });
});

describe('pickZone', () => {
  const zones = ['euc1-az1', 'euc1-az2', 'euc1-az3'];

  it('picks the same zone again for the same run and role (a retried Task)', () => {
    expect(pickZone(zones, 'run-1', 'receiver')).toBe(pickZone(zones, 'run-1', 'receiver'));
    expect(pickZone(['euc1-az2'], 'run-1', 'receiver')).toBe('euc1-az2');
  });

  it("spreads a schedule's runs over every zone of the list", () => {
    // Runs every 6 hours for 75 days: their ids, as the workflow derives them.
    const picks = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const startTime = new Date(Date.UTC(2026, 0, 1) + i * 6 * 3_600_000).toISOString();
      const runId = runIdFor({ id: `arn:aws:states:eu-central-1:1:execution:feedpath-dev:s${i}`, startTime });
      const zone = pickZone(zones, runId, 'receiver');
      picks.set(zone, (picks.get(zone) ?? 0) + 1);
    }

    expect([...picks.keys()].sort()).toEqual(zones);
    // 100 each on average; sha256 of distinct ids is as good as uniform.
    for (const n of picks.values()) expect(n).toBeGreaterThan(60);
  });
});

describe('the workflow over the fake cloud', () => {
  let cloud: FakeCloud;
  const execution = {
    id: 'arn:aws:states:eu-central-1:123456789012:execution:feedpath-test:pinned',
    startTime: '2026-11-22T02:02:31.123Z',
  };

  beforeAll(() => {
    useLambdaEnvironment();
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });

  beforeEach(() => {
    cloud = new FakeCloud({
      offeredZones: (region) => (region === 'eu-central-1' ? ['euc1-az3', 'euc1-az1'] : ['apne1-az4']),
      regionZones: (region) =>
        region === 'eu-central-1' ? ['euc1-az1', 'euc1-az2', 'euc1-az3'] : ['apne1-az1', 'apne1-az4'],
    });
  });

  afterEach(() => cloud.restore());

  it("creates the receiver in its pinned zone, and run.json records each site's zone once ready", async () => {
    const run = await prepare({ input: { receiverAzId: 'euc1-az3' }, execution }, context);
    await provisionSites({ run }, context);

    await describeSites({ run }, context);
    const ready = await describeSites({ run }, context);

    expect(ready.ready).toBe(true);
    const zoneOf = (role: string) =>
      cloud.cfn
        .commandCalls(CreateStackCommand)
        .map((c) => c.args[0].input)
        .find((i) => i.StackName?.endsWith(`-${role}`))
        ?.Parameters?.find((p) => p.ParameterKey === 'AvailabilityZoneId')?.ParameterValue;
    expect({ receiver: zoneOf('receiver'), forwarder: zoneOf('forwarder') }).toEqual({
      receiver: 'euc1-az3',
      forwarder: 'apne1-az4',
    });
    const stored = runFileSchema.parse(
      JSON.parse(cloud.objects.get(`${TEST_ENV.FEEDPATH_BUCKET}/${run.prefix}run.json`)?.toString() ?? '{}'),
    );
    expect(stored.placement).toEqual({
      receiver: {
        region: 'eu-central-1',
        availabilityZoneId: 'euc1-az3',
        availabilityZoneName: 'eu-central-1c',
        instanceType: 'c7i.large',
      },
      forwarder: {
        region: 'ap-northeast-1',
        availabilityZoneId: 'apne1-az4',
        availabilityZoneName: 'ap-northeast-1b',
        instanceType: 'c7i.large',
      },
    });
    expect(cloud.ec2).toHaveReceivedCommandWith(DescribeAvailabilityZonesCommand, { ZoneIds: ['euc1-az3'] });
    // The plan a teardown-only execution reads back is still all there.
    expect(stored).toMatchObject({ runId: run.runId, sites: run.sites, input: run.input });
    expect(teardownOnlyInputSchema.parse({ teardownOf: stored, reason: 'stopped' }).teardownOf).toEqual(run);
    // The report's Sites table and the history take it from there (a run failing later included).
    expect(sitesTable({ metadata: { input: null, run: stored } })?.rows).toEqual([
      ['receiver', 'eu-central-1', 'euc1-az3', 'eu-central-1c', 'c7i.large'],
      ['forwarder', 'ap-northeast-1', 'apne1-az4', 'ap-northeast-1b', 'c7i.large'],
    ]);
    expect(failedHistoryRecord({ runId: run.runId, cause: 'AgentFailed', run: stored })).toMatchObject({
      forwarder_az_id: 'apne1-az4',
      receiver_az_id: 'euc1-az3',
      instance_type: 'c7i.large',
    });
    expect(sitesTable({ metadata: { input: null, run: { runId: 'r', where: 'local' } } })).toBeNull();
  });

  it("sweeps the receiver over docs/aws.md's zones with its schedule input, recording each run's zone", async () => {
    const docs = readFileSync(join(projectRoot(), 'docs', 'aws.md'), 'utf8');
    const scheduleInput = JSON.parse(/--param='scheduleInput=(\{.*\})'/.exec(docs)?.[1] ?? 'null') as unknown;
    const zones = new Map<string, number>();
    cloud.options.offeredZones = (region) =>
      region === 'eu-central-1' ? ['euc1-az3', 'euc1-az2', 'euc1-az1'] : ['apne1-az4'];

    // Twelve scheduled executions, 6 hours apart (EventBridge names them by a random id).
    for (let i = 0; i < 12; i++) {
      const scheduled = {
        id: `arn:aws:states:eu-central-1:123456789012:execution:feedpath-test:${i}-b5a2c9`,
        startTime: new Date(Date.UTC(2026, 10, 22) + i * 6 * 3_600_000).toISOString(),
      };
      const run = await prepare({ input: scheduleInput, execution: scheduled }, context);
      await provisionSites({ run }, context);
      await describeSites({ run }, context);
      await describeSites({ run }, context);
      const stored = runFileSchema.parse(
        JSON.parse(
          cloud.objects.get(`${TEST_ENV.FEEDPATH_BUCKET}/${run.prefix}run.json`)?.toString() ?? '{}',
        ),
      );
      const zone = stored.placement?.receiver?.availabilityZoneId ?? 'none';
      zones.set(zone, (zones.get(zone) ?? 0) + 1);
    }

    expect(scheduleInput).toMatchObject({ receiverAzId: 'euc1-az1,euc1-az2,euc1-az3' });
    // Every run in one of the listed zones (az2 too, which is not the automatic choice), each used.
    expect([...zones.keys()].sort()).toEqual(['euc1-az1', 'euc1-az2', 'euc1-az3']);
  });

  it('fails ProvisionSites with InvalidInput before any stack exists when the pinned zone lacks the type', async () => {
    const run = await prepare({ input: { receiverAzId: 'euc1-az2' }, execution }, context);

    await expect(provisionSites({ run }, context)).rejects.toMatchObject({
      name: WorkflowErrorName.invalidInput,
      message: expect.stringContaining('receiverAzId: euc1-az2 does not offer c7i.large'),
    });
    expect(cloud.created).toEqual([]);
  });
});
