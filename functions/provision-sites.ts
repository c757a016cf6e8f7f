/** ProvisionSites: start creating the run's site stacks, one per region. */
import middy from '@middy/core';
import { runEventSchema, type ProvisionSitesResult, type RunEvent } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';
import { provisionSites } from '../lib/cloud/sites';

export const handler = middy<RunEvent, ProvisionSitesResult>()
  .use(parseEvent(runEventSchema))
  .handler((event) => {
    const { config, clients } = lambdaCloud();
    return provisionSites(event, {
      cloudFormation: clients.cloudFormation,
      ec2: clients.ec2,
      instanceBoundaryArn: config.instanceBoundaryArn,
      stackRoleArn: config.stackRoleArn,
    });
  });
