/**
 * No bill after an abort. An execution stopped by hand (ABORTED) or by the state machine's own
 * timeout (TIMED_OUT) ends without reaching TeardownRun, and its instances would run until the
 * sweeper's expiry (hours). So the end-of-execution handler starts, at once, a teardown-only
 * execution of the same state machine with the stopped run's plan (`{"teardownOf": …}`, see the
 * ASL's PrepareRoute): the same teardown loop, retries and verification as any run's.
 */
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import type { ExecutionStatusEvent } from '../history';
import { RUN_FILE } from '../run-file';
import { readText, type ResultsStore } from '../store';
import type { RegionalClient } from './clients';
import { runIdFor, runPlanSchema, runPrefixFor } from './run';

/** Statuses whose execution could not tear its run down itself. */
const STOPPED = new Set(['ABORTED', 'TIMED_OUT']);

/** The plan in run.json, as the teardown takes it (run.json may add an outcome: stripped). */
const storedPlanSchema = runPlanSchema.strip();

/** The input of a teardown-only execution. */
export const teardownOnlyInputSchema = z.object({ teardownOf: storedPlanSchema, reason: z.string() });

export interface CleanupDeps {
  sfn: RegionalClient<SFNClient>;
  store: ResultsStore;
}

export interface CleanupResult {
  action: 'started' | 'none';
  why: string;
  /** The teardown-only execution's name (`<runId>-teardown`: a repeated event starts nothing new). */
  execution?: string;
}

/** True for the input of a teardown-only execution (its end is no run of its own). */
export function isTeardownOnly(input: string | null | undefined): boolean {
  if (input === null || input === undefined) return false;
  try {
    return teardownOnlyInputSchema.safeParse(JSON.parse(input)).success;
  } catch {
    return false;
  }
}

/** Starts the teardown of a run whose execution was stopped or timed out; nothing otherwise. */
export async function cleanUpStoppedRun(
  { detail }: Pick<ExecutionStatusEvent, 'detail'>,
  deps: CleanupDeps,
): Promise<CleanupResult> {
  if (!STOPPED.has(detail.status)) return { action: 'none', why: `the execution ${detail.status}` };
  if (isTeardownOnly(detail.input)) return { action: 'none', why: 'a teardown-only execution' };
  const stateMachineArn = detail.stateMachineArn;
  if (stateMachineArn === undefined) return { action: 'none', why: 'the event names no state machine' };
  const startTime = new Date(detail.startDate).toISOString();
  const runId = runIdFor({ id: detail.executionArn, startTime });
  const text = await readText(deps.store, `${runPrefixFor(runId, startTime)}${RUN_FILE}`);
  if (text === null)
    return { action: 'none', why: `no ${RUN_FILE}: the run stopped before it created anything` };
  const plan = storedPlanSchema.parse(JSON.parse(text));
  const name = `${plan.runId}-teardown`;
  const region = stateMachineArn.split(':')[3] ?? '';
  const reason = `execution ${detail.name ?? runId} ${detail.status === 'ABORTED' ? 'was stopped' : 'timed out'}`;
  try {
    await deps.sfn(region).send(
      new StartExecutionCommand({
        stateMachineArn,
        name,
        input: JSON.stringify({ teardownOf: plan, reason }),
      }),
    );
  } catch (error) {
    // The same event delivered twice: its teardown is already on its way.
    if ((error as { name?: unknown }).name !== 'ExecutionAlreadyExists') throw error;
  }
  return { action: 'started', why: reason, execution: name };
}
