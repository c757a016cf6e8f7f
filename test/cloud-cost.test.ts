/** The run's cost estimate (lib/cloud/cost.ts) and the price table it reads (pricing/aws-prices.json). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  estimateCost,
  loadPriceTable,
  MEAN_POLL_WAIT_S,
  priceTableSchema,
  SITE_VOLUME_GB,
  TEARDOWN_ALLOWANCE_S,
  usageOfRun,
  type RunUsage,
} from '../lib/cloud/cost';
import { parseExperimentInput, REFERENCE_EXPERIMENT } from '../lib/cloud/input';
import { planRun } from '../lib/cloud/run';
import { projectRoot } from '../lib/project-files';

/** A table in the repository's format, through the same schema the estimate reads it with. */
const TABLE = priceTableSchema.parse({
  date: '2026-01-15',
  currency: 'USD',
  ec2: {
    source: 'test',
    perHour: { 'eu-central-1': { 'c7i.large': 0.1 }, 'ap-northeast-1': { 'c7i.large': 0.2 } },
  },
  publicIpv4: { source: 'test', perHour: 0.005 },
  ebsGp3: { source: 'test', perGbMonth: { 'eu-central-1': 0.073, 'ap-northeast-1': 0.073 } },
  dataTransfer: {
    source: 'test',
    interRegionPerGbFrom: { 'ap-northeast-1': 0.09 },
    crossZonePerGbEachWay: 0.01,
  },
  stepFunctions: { source: 'test', perStateTransition: 0.000025 },
  lambda: { source: 'test', perGbSecond: 0.00001, perRequest: 0.0000002 },
});

const HOUR_RUN: RunUsage = {
  instances: [
    { role: 'receiver', region: 'eu-central-1', instanceType: 'c7i.large', seconds: 3600 },
    { role: 'forwarder', region: 'ap-northeast-1', instanceType: 'c7i.large', seconds: 3600 },
  ],
  relayed: { fromRegion: 'ap-northeast-1', crossRegion: true, bytes: 5e9 },
  stateTransitions: 100,
  lambdaRequests: 20,
  lambdaGbSeconds: 10,
};

describe('the price table in the repository', () => {
  it('passes its schema, with a date and a source for every section', () => {
    const raw = JSON.parse(readFileSync(join(projectRoot(), 'pricing', 'aws-prices.json'), 'utf8')) as Record<
      string,
      unknown
    >;

    const table = loadPriceTable(raw);

    expect(table.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const section of ['ec2', 'publicIpv4', 'ebsGp3', 'dataTransfer', 'stepFunctions', 'lambda'] as const)
      expect(table[section].source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it("prices the reference experiment in each of the deployment's default regions", () => {
    const table = loadPriceTable();
    const regions = /regions: ([a-z0-9,-]+)/.exec(
      readFileSync(join(projectRoot(), 'serverless.yml'), 'utf8'),
    )?.[1];

    for (const region of (regions ?? '').split(',')) {
      expect({ region, ec2: table.ec2.perHour[region]?.[REFERENCE_EXPERIMENT.instanceType] }).toEqual({
        region,
        ec2: expect.any(Number),
      });
      expect(table.ebsGp3.perGbMonth[region]).toEqual(expect.any(Number));
      expect(table.dataTransfer.interRegionPerGbFrom[region]).toEqual(expect.any(Number));
    }
  });

  it('is refused without a source', () => {
    const { source: _source, ...ec2 } = TABLE.ec2;

    expect(() => loadPriceTable({ ...TABLE, ec2 })).toThrow(/ec2\.source/);
  });
});

describe('estimateCost', () => {
  it('prices an hour of two sites, 5 GB across regions, the transitions and the Lambda time', () => {
    const cost = estimateCost(HOUR_RUN, TABLE);

    const usd = Object.fromEntries(cost.items.map((i) => [`${i.item} ${i.detail.split(' ')[0]}`, i.usd]));
    expect(usd).toEqual({
      'ec2 receiver': 0.1,
      'ec2 forwarder': 0.2,
      'public-ipv4 receiver': 0.005,
      'public-ipv4 forwarder': 0.005,
      'ebs receiver': Number(((SITE_VOLUME_GB * 0.073) / 730).toFixed(6)),
      'ebs forwarder': Number(((SITE_VOLUME_GB * 0.073) / 730).toFixed(6)),
      'data-transfer relayed': 0.45,
      'step-functions state': 0.0025,
      'lambda 20': 0.000104,
    });
    expect(cost.total_usd).toBeCloseTo(
      0.1 + 0.2 + 0.01 + (2 * SITE_VOLUME_GB * 0.073) / 730 + 0.45 + 0.0025 + 0.000104,
      4,
    );
    expect(cost).toMatchObject({ complete: true, currency: 'USD', prices: { date: '2026-01-15' } });
  });

  it('bills an instance at least a minute', () => {
    const short: RunUsage = { ...HOUR_RUN, instances: [{ ...HOUR_RUN.instances[0]!, seconds: 5 }] };

    const ec2 = estimateCost(short, TABLE).items.find((i) => i.item === 'ec2');

    expect(ec2?.quantity).toBeCloseTo(60 / 3600, 6);
  });

  it('lists an item the table has no price for, and says the total is incomplete', () => {
    const elsewhere: RunUsage = {
      ...HOUR_RUN,
      instances: [{ role: 'receiver', region: 'sa-east-1', instanceType: 'c7i.large', seconds: 3600 }],
      relayed: null,
    };

    const cost = estimateCost(elsewhere, TABLE);

    expect(cost.complete).toBe(false);
    expect(cost.items.filter((i) => i.usd === null).map((i) => i.item)).toEqual(['ec2', 'ebs']);
    expect(cost.total_usd).toBeCloseTo(0.005 + 0.0025 + 0.000104, 4);
  });
});

describe('usageOfRun', () => {
  it("counts each site from the execution's start to the analysis plus the teardown, and polls the rest", () => {
    const input = parseExperimentInput({ durationSeconds: 300 }, ['ap-northeast-1', 'eu-central-1']);
    const run = planRun(
      input,
      { stage: 'test', bucket: 'b', bucketRegion: 'eu-central-1' },
      { id: 'arn:aws:states:eu-central-1:1:execution:x:y', startTime: '2026-01-15T10:00:00.000Z' },
    );

    const usage = usageOfRun(run, {
      now: new Date('2026-01-15T10:10:00.000Z'),
      relayedBytes: 123,
      analysisSeconds: 4,
    });

    const seconds = 600 + TEARDOWN_ALLOWANCE_S;
    expect(usage.instances).toEqual([
      { role: 'receiver', region: 'eu-central-1', instanceType: 'c7i.large', seconds },
      { role: 'forwarder', region: 'ap-northeast-1', instanceType: 'c7i.large', seconds },
    ]);
    expect(usage.relayed).toEqual({ fromRegion: 'ap-northeast-1', crossRegion: true, bytes: 123 });
    const polls = Math.ceil((seconds - 300) / MEAN_POLL_WAIT_S);
    expect(usage.stateTransitions).toBe(25 + 3 * polls);
    expect(usage.lambdaRequests).toBe(8 + polls);
  });
});
