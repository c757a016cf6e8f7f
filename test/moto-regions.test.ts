/**
 * Three receiver regions against moto (test/moto-shim.ts): the real definition and Lambda handlers,
 * stacks, instances and roles created by moto's CloudFormation in three regions. moto ignores
 * PeerRegion, so a peering across regions cannot complete there: these runs are baseline (a site
 * per region, no forwarder); the paired fan-out over three peerings is covered against the fake
 * cloud (test/workflow-regions.test.ts). The fault is one region's site rolling back.
 */
import { runWorkflowLocally, type LocalTaskHandlers } from '../cli/workflow';
import { WorkflowErrorName } from '../lib/cloud/errors';
import { runFileSchema } from '../lib/run-file';
import { lambdaHandlers } from './cloud-fake';
import { FAST, MotoRun, REGIONS, useMotoRun } from './moto-run';
import { motoAvailable } from './moto-shim';

/** Every region the deployment allows gets a receiver. */
const THREE = { mode: 'baseline', durationSeconds: 60, receiverRegions: REGIONS };

const available = motoAvailable();
const describeMoto = available ? describe : describe.skip;

const moto = new MotoRun();

/** Neither stacks nor instances are left in any region. */
async function expectNothingLeft(): Promise<void> {
  expect({ stacks: await moto.stacksLeft(), instances: await moto.instancesRunning() }).toEqual({
    stacks: [],
    instances: [],
  });
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

describeMoto('three receiver regions against moto', () => {
  useMotoRun(moto);

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
      expect(await moto.readObject(`${prefix}receivers/${region}/baseline-results.csv`)).toMatch(
        /^sequence_id,/,
      );
      expect(JSON.parse(await moto.readObject(`${prefix}receivers/${region}/report.json`))).toEqual(
        expect.objectContaining({ verdict: expect.any(String) }),
      );
    }
    const matrix = JSON.parse(await moto.readObject(`${prefix}report.json`)) as {
      matrix: Array<{ region: string | null }>;
    };
    expect(matrix.matrix.map((row) => row.region)).toEqual(REGIONS);
    const run = runFileSchema.parse(JSON.parse(await moto.readObject(`${prefix}run.json`)));
    expect(Object.keys(run.placement?.receivers ?? {})).toEqual(REGIONS);
    await expectNothingLeft();
  });

  it('fails when one region’s site rolls back (regionFailure "fail") and leaves nothing in any region', async () => {
    moto.shim.faults.rolledBack = ['-receiver-us-east-1'];
    const { handlers, deleted } = handlersRecordingDeletions();

    const result = await runWorkflowLocally(THREE, handlers, FAST);

    expect(result).toMatchObject({ lastState: 'Failed', error: WorkflowErrorName.stackFailed });
    expect(result.cause).toMatch(/-receiver-us-east-1 \(us-east-1\) is ROLLBACK_COMPLETE/);
    expect(result.states).not.toContain('RunReceiver');
    expect(deleted).toHaveLength(3); // every region's site, the rolled-back one included
    await expectNothingLeft();
  });

  it('drops the region whose site rolls back (regionFailure "continue"), measures the others, and leaves nothing', async () => {
    moto.shim.faults.rolledBack = ['-receiver-us-east-1'];

    const result = await runWorkflowLocally({ ...THREE, regionFailure: 'continue' }, lambdaHandlers(), FAST);

    expect({ lastState: result.lastState, error: result.error }).toEqual({
      lastState: 'Succeeded',
      error: undefined,
    });
    const { prefix } = result.output as { prefix: string };
    const run = runFileSchema.parse(JSON.parse(await moto.readObject(`${prefix}run.json`)));
    expect(run.receivers?.filter((r) => r.dropped !== undefined).map((r) => r.region)).toEqual(['us-east-1']);
    const matrix = JSON.parse(await moto.readObject(`${prefix}report.json`)) as {
      matrix: Array<{ region: string | null }>;
    };
    expect(matrix.matrix.map((row) => row.region)).toEqual(REGIONS.filter((r) => r !== 'us-east-1'));
    await expectNothingLeft();
  });
});
