/** The end of every execution (EventBridge): a history record, with the cause for a failed run. */
import middy from '@middy/core';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';
import { executionStatusEventSchema, recordExecutionEnd } from '../lib/history';

export const handler = middy()
  .use(parseEvent(executionStatusEventSchema))
  .handler((event) => recordExecutionEnd(event, lambdaCloud().store, { log: (line) => console.log(line) }));
