/** ConnectAgents: are the instances online in SSM? */
import middy from '@middy/core';
import { connectAgents } from '../lib/cloud/agents';
import { sitesEventSchema, type ConnectAgentsResult, type SitesEvent } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';

export const handler = middy<SitesEvent, ConnectAgentsResult>()
  .use(parseEvent(sitesEventSchema))
  .handler((event) => connectAgents(event, { ssm: lambdaCloud().clients.ssm }));
