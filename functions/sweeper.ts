/** Scheduled: delete run stacks whose expiry tag has passed, in every configured region. */
import middy from '@middy/core';
import { lambdaCloud } from '../lib/cloud/lambda';
import { sweepExpiredStacks, type SweepResult } from '../lib/cloud/sweeper';

export const handler = middy<unknown, SweepResult>().handler(async () => {
  const { config, clients } = lambdaCloud();
  const result = await sweepExpiredStacks({
    cloudFormation: clients.cloudFormation,
    regions: config.regions,
    stage: config.stage,
    now: () => new Date(),
  });
  console.log(JSON.stringify({ sweep: result }));
  return result;
});
