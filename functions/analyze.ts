/** AnalyzeResults: statistics and the report, over the run's S3 prefix. */
import middy from '@middy/core';
import { analyzeResults } from '../lib/cloud/analyze';
import { runEventSchema, type AnalyzeResult, type RunEvent } from '../lib/cloud/contract';
import { lambdaCloud, parseEvent } from '../lib/cloud/lambda';
import { writeEmf } from '../lib/metrics-emf';

export const handler = middy<RunEvent, AnalyzeResult>()
  .use(parseEvent(runEventSchema))
  .handler((event) =>
    analyzeResults(event, {
      store: lambdaCloud().store,
      log: (line) => console.log(line),
      metrics: (record) => writeEmf(record),
    }),
  );
