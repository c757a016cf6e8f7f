/** PrepareRun: validate the execution input, plan the run, stage its files. */
import middy from '@middy/core';
import { prepareEventSchema, type PrepareEvent } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';
import { agentBundleReader, prepareRun } from '../lib/cloud/prepare';
import type { RunPlan } from '../lib/cloud/run';

export const handler = middy<PrepareEvent, RunPlan>()
  .use(parseEvent(prepareEventSchema))
  .handler((event) => {
    const { config, store, agentsDir } = lambdaCloud();
    return prepareRun(event, {
      deployment: config,
      regions: config.regions,
      store,
      agentBundle: agentBundleReader(agentsDir),
    });
  });
