/** The run plan: input defaults and validation, ids, names, tags, expiry and the time budget. */
import { isArmInstanceType, siteParameters } from '../lib/cloud/sites';
import { parseExperimentInput, REFERENCE_EXPERIMENT } from '../lib/cloud/input';
import {
  expirySeconds,
  MAX_DURATION_SECONDS,
  overheadBudgetSeconds,
  workflowTimeoutSeconds,
} from '../lib/cloud/limits';
import { planRun, runIdFor, teardownLayers } from '../lib/cloud/run';

const REGIONS = ['ap-northeast-1', 'eu-central-1'];
const DEPLOYMENT = { stage: 'dev', bucket: 'b', bucketRegion: 'eu-central-1' };
const EXECUTION = {
  id: 'arn:aws:states:eu-central-1:1:execution:feedpath-dev:one',
  startTime: '2026-11-22T02:02:31.500Z',
};

describe('experiment input', () => {
  it('fills every field of the reference experiment for {} (and for null)', () => {
    expect(parseExperimentInput({}, REGIONS)).toEqual({
      ...REFERENCE_EXPERIMENT,
      streams: ['btcusdt@trade'],
    });
    expect(parseExperimentInput(null, REGIONS)).toEqual(parseExperimentInput({}, REGIONS));
  });

  it('takes streams as a list or a comma-separated string, and rejects a stream listed twice', () => {
    expect(parseExperimentInput({ streams: 'btcusdt@trade, ethusdt@depth@100ms' }, REGIONS).streams).toEqual([
      'btcusdt@trade',
      'ethusdt@depth@100ms',
    ]);
    expect(parseExperimentInput({ streams: ['btcusdt@bookTicker'] }, REGIONS).streams).toEqual([
      'btcusdt@bookTicker',
    ]);
    expect(() => parseExperimentInput({ streams: 'btcusdt@trade,btcusdt@trade' }, REGIONS)).toThrow(
      /streams: stream "btcusdt@trade" is listed twice/,
    );
  });

  it('does not ask for a forwarder region in baseline mode', () => {
    expect(parseExperimentInput({ mode: 'baseline', forwarderRegion: 'us-west-2' }, REGIONS).mode).toBe(
      'baseline',
    );
    expect(() => parseExperimentInput({ forwarderRegion: 'us-west-2' }, REGIONS)).toThrow(
      /forwarderRegion: us-west-2 is not one of the deployment's regions/,
    );
  });
});

describe('run plan', () => {
  it('derives the run id from the start time and the execution, the same on every retry', () => {
    const id = runIdFor(EXECUTION);

    expect(id).toMatch(/^20261122-020231-[a-z0-9]{4}$/);
    expect(runIdFor({ ...EXECUTION })).toBe(id);
    expect(runIdFor({ ...EXECUTION, id: `${EXECUTION.id}-2` })).not.toBe(id);
  });

  it('names site stacks within IAM’s 64 characters even for the longest stage', () => {
    const run = planRun(
      parseExperimentInput({}, REGIONS),
      { ...DEPLOYMENT, stage: 'abcdefghijklmnop' },
      EXECUTION,
    );

    for (const site of run.sites) expect(site.stackName.length).toBeLessThanOrEqual(64);
  });

  it('plans one site and no peering in baseline mode', () => {
    const run = planRun(parseExperimentInput({ mode: 'baseline' }, REGIONS), DEPLOYMENT, EXECUTION);

    expect(run.sites.map((s) => s.role)).toEqual(['receiver']);
    expect(run.peering).toBeNull();
    expect(teardownLayers(run)).toEqual([[{ region: 'eu-central-1', stackName: run.sites[0]?.stackName }]]);
    expect(
      siteParameters(run, run.sites[0]!, { zoneId: 'euc1-az2', boundaryArn: 'arn:b' }).BackbonePeerCidr,
    ).toBe('');
  });

  it('lets the sweeper take a run’s stacks only after its execution has surely ended', () => {
    const run = planRun(parseExperimentInput({ durationSeconds: 600 }, REGIONS), DEPLOYMENT, EXECUTION);

    expect(Date.parse(run.expiresAt) - Date.parse(run.startedAt)).toBe(expirySeconds(600) * 1000);
    expect(expirySeconds(600)).toBeGreaterThan(600 + overheadBudgetSeconds());
  });

  it('times the state machine out after the longest run plus every loop at its bound', () => {
    expect(workflowTimeoutSeconds()).toBeGreaterThanOrEqual(MAX_DURATION_SECONDS + overheadBudgetSeconds());
    expect(workflowTimeoutSeconds() % 3600).toBe(0);
  });
});

describe('instance architecture', () => {
  it.each([
    ['c7i.large', false],
    ['m6a.xlarge', false],
    ['g5.xlarge', false],
    ['c7g.large', true],
    ['c7gn.medium', true],
    ['t4g.small', true],
    ['m7gd.large', true],
    ['g5g.xlarge', true],
    ['a1.large', true],
  ])('%s is arm64: %s', (type, arm) => {
    expect(isArmInstanceType(type)).toBe(arm);
  });
});
