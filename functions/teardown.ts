/** TeardownRun: one step of deleting the run's stacks. */
import middy from '@middy/core';
import { runEventSchema, type RunEvent, type TeardownResult } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';
import { teardownRun } from '../lib/cloud/teardown';

export const handler = middy<RunEvent, TeardownResult>()
  .use(parseEvent(runEventSchema))
  .handler((event) => teardownRun(event, { cloudFormation: lambdaCloud().clients.cloudFormation }));
