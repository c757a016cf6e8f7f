/**
 * The end of a workflow execution, as EventBridge reports it ("Step Functions Execution Status
 * Change"): a run that failed, timed out or was aborted never reaches the analysis, so this is
 * where its failed record is written, with its cause. A succeeded run was recorded by the analysis;
 * its record is only written here, from its report.json, when that did not happen (the analysis'
 * history write failed).
 *
 * The run's id and prefix are derived from the execution exactly as PrepareRun derives them
 * (runIdFor, planRun), so no state has to be passed along.
 */
import { z } from 'zod';
import { isTeardownOnly } from '../cloud/cleanup';
import { runIdFor, runPrefixFor } from '../cloud/run';
import { parseJsonObject } from '../json';
import { readText, type ResultsStore } from '../store';
import { historyKey } from './record';
import { readReport, recordFailedRun, recordRun, type RecordRunOptions } from './record-run';

/** The statuses that end an execution. */
export const ENDED_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** Causes are kept whole up to this many characters (a record stays small). */
const MAX_CAUSE_CHARS = 2000;

/** The fields of the event this reads; EventBridge sends more (kept, ignored). */
export const executionStatusEventSchema = z.looseObject({
  source: z.string().optional(),
  'detail-type': z.string().optional(),
  detail: z.looseObject({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().optional(),
    name: z.string().optional(),
    status: z.string(),
    /** Epoch ms. */
    startDate: z.number(),
    stopDate: z.number().nullable().optional(),
    /** The execution's input and output as JSON text (absent when larger than EventBridge carries). */
    input: z.string().nullable().optional(),
    output: z.string().nullable().optional(),
    error: z.string().nullable().optional(),
    cause: z.string().nullable().optional(),
  }),
});
export type ExecutionStatusEvent = z.output<typeof executionStatusEventSchema>;

export interface ExecutionEndResult {
  runId: string;
  status: string;
  /** recorded: a record was written; kept: the analysis had recorded it; ignored: not an end, or no report. */
  action: 'recorded' | 'kept' | 'ignored';
  key: string | null;
}

function failureOf(detail: ExecutionStatusEvent['detail']): { error: string | null; cause: string } {
  const error =
    detail.error ??
    (detail.status === 'TIMED_OUT' ? 'States.Timeout' : detail.status === 'ABORTED' ? 'Aborted' : null);
  const fallback =
    detail.status === 'TIMED_OUT'
      ? 'the execution timed out'
      : detail.status === 'ABORTED'
        ? 'the execution was stopped'
        : 'the execution failed without a cause';
  const cause =
    detail.cause === null || detail.cause === undefined || detail.cause === '' ? fallback : detail.cause;
  return {
    error,
    cause: cause.length > MAX_CAUSE_CHARS ? `${cause.slice(0, MAX_CAUSE_CHARS)}…` : cause,
  };
}

/** Records the end of an execution in the history (and regenerates the trend when it wrote one). */
export async function recordExecutionEnd(
  event: ExecutionStatusEvent,
  store: ResultsStore,
  options: RecordRunOptions = {},
): Promise<ExecutionEndResult> {
  const { detail } = event;
  const startTime = new Date(detail.startDate).toISOString();
  const runId = runIdFor({ id: detail.executionArn, startTime });
  const prefix = runPrefixFor(runId, startTime);
  // A teardown-only execution (lib/cloud/cleanup.ts) cleans up a run recorded by its own end.
  if (!(ENDED_STATUSES as readonly string[]).includes(detail.status) || isTeardownOnly(detail.input))
    return { runId, status: detail.status, action: 'ignored', key: null };

  if (detail.status === 'SUCCEEDED') {
    const key = historyKey({ run_id: runId, started_at: startTime });
    if ((await readText(store, key)) !== null) return { runId, status: detail.status, action: 'kept', key };
    const report = await readReport(store, prefix);
    if (report === null) {
      options.log?.(`history: ${store.describe(prefix)} has no report.json: nothing to record`);
      return { runId, status: detail.status, action: 'ignored', key: null };
    }
    const result = await recordRun(store, prefix, report, options);
    return { runId, status: detail.status, action: 'recorded', key: result.key };
  }

  // The run's own input.json and run.json are preferred; the execution's input covers a run that
  // failed before PrepareRun staged them.
  const result = await recordFailedRun(
    store,
    {
      runId,
      prefix,
      startedAt: detail.startDate,
      endedAt: detail.stopDate ?? null,
      ...failureOf(detail),
      input: parseJsonObject(detail.input),
      now: options.now,
    },
    options,
  );
  return { runId, status: detail.status, action: 'recorded', key: result.key };
}
