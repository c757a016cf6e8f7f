/** ConnectSites: one step of peering the sites' VPCs. */
import middy from '@middy/core';
import { connectSites } from '../lib/cloud/connect';
import { sitesEventSchema, type ConnectSitesResult, type SitesEvent } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';

export const handler = middy<SitesEvent, ConnectSitesResult>()
  .use(parseEvent(sitesEventSchema))
  .handler((event) => {
    const { config, clients } = lambdaCloud();
    return connectSites(event, { cloudFormation: clients.cloudFormation, stackRoleArn: config.stackRoleArn });
  });
