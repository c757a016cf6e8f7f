/** TeardownRun: one step of deleting the run's stacks. */
import middy from '@middy/core';
import { teardownEventSchema, type TeardownEvent, type TeardownResult } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';
import { teardownRun } from '../lib/cloud/teardown';

export const handler = middy<TeardownEvent, TeardownResult>()
  .use(parseEvent(teardownEventSchema))
  .handler((event) => teardownRun(event, { cloudFormation: lambdaCloud().clients.cloudFormation }));
