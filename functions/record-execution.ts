/**
 * The end of every execution (EventBridge): a run that was stopped or timed out gets its teardown
 * started at once (lib/cloud/cleanup.ts), and every run a history record (failed runs with their
 * cause). Both are tried; a failure of either fails the invocation, so EventBridge retries (both
 * are idempotent).
 */
import middy from '@middy/core';
import { cleanUpStoppedRun } from '../lib/cloud/cleanup';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';
import { executionStatusEventSchema, recordExecutionEnd } from '../lib/history';

export const handler = middy()
  .use(parseEvent(executionStatusEventSchema))
  .handler(async (event) => {
    const { clients, store } = lambdaCloud();
    const log = (line: string): void => console.log(line);
    const [cleanup, record] = await Promise.allSettled([
      cleanUpStoppedRun(event, { sfn: clients.sfn, store }),
      recordExecutionEnd(event, store, { log }),
    ]);
    if (cleanup.status === 'fulfilled') log(JSON.stringify({ cleanup: cleanup.value }));
    for (const outcome of [cleanup, record]) if (outcome.status === 'rejected') throw outcome.reason;
    return {
      cleanup: cleanup.status === 'fulfilled' ? cleanup.value : null,
      record: record.status === 'fulfilled' ? record.value : null,
    };
  });
