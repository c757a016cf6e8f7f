/** RunReceiver / RunForwarder: start an agent on its instance with SSM Run Command. */
import middy from '@middy/core';
import { startAgent } from '../lib/cloud/agents';
import { startAgentEventSchema, type AgentCommand, type StartAgentEvent } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';

export const handler = middy<StartAgentEvent, AgentCommand>()
  .use(parseEvent(startAgentEventSchema))
  .handler((event) => startAgent(event, { ssm: lambdaCloud().clients.ssm }));
