/** RunPollAgents: have the agents' commands finished? */
import middy from '@middy/core';
import { pollAgents } from '../lib/cloud/agents';
import { pollAgentsEventSchema, type PollAgentsEvent, type PollAgentsResult } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';

export const handler = middy<PollAgentsEvent, PollAgentsResult>()
  .use(parseEvent(pollAgentsEventSchema))
  .handler((event) => pollAgents(event, { ssm: lambdaCloud().clients.ssm }));
