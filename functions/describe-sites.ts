/** ProvisionDescribeSites: are the site stacks complete? */
import middy from '@middy/core';
import { runEventSchema, type DescribeSitesResult, type RunEvent } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';
import { describeSites } from '../lib/cloud/sites';

export const handler = middy<RunEvent, DescribeSitesResult>()
  .use(parseEvent(runEventSchema))
  .handler((event) => {
    const { clients, store } = lambdaCloud();
    return describeSites(event, { cloudFormation: clients.cloudFormation, ec2: clients.ec2, store });
  });
