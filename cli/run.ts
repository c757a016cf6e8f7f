/**
 * `feedpath run`: the experiment on this machine, driven by the workflow's own definition
 * (statemachine/feedpath.asl.json) in a local interpreter, with Task handlers that start processes
 * on loopback instead of cloud resources (cli/local/handlers.ts).
 */
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCode, FeedpathError } from '../lib/errors';
import type { LocalRunOptions } from '../lib/experiment';
import { recordFailedRun, recordRun } from '../lib/history';
import { projectVersion } from '../lib/paths';
import { LocalFolderStore } from '../lib/store';
import type { AnalyzeResult } from './analyze';
import { LocalHandlers, localRunWaitMs, workflowInput } from './local/handlers';
import type { EndedBy } from './local/measurement';
import type { Progress } from './progress';
import { runWorkflowLocally, type WorkflowStateEvent } from './workflow';

export interface RunOutcome {
  runId: string;
  runDir: string;
  endedBy: EndedBy;
  analysis: AnalyzeResult;
}

/** States worth a line of their own are announced by the handlers; failures are shown here. */
function showFailures(progress: Progress) {
  return (event: WorkflowStateEvent): void => {
    if (event.type === 'failed')
      progress.warn(`${event.state} failed: ${event.error ?? ''} ${event.cause ?? ''}`.trim());
  };
}

/** Runs the experiment locally through the workflow definition; throws with the cause if it fails. */
export async function runLocal(options: LocalRunOptions, progress: Progress): Promise<RunOutcome> {
  const handlers = new LocalHandlers(options, progress);
  const startedAt = new Date();
  const result = await runWorkflowLocally(workflowInput(options), handlers, {
    pollWaitMs: 0,
    retryIntervalMs: 200,
    runWaitMs: localRunWaitMs(options.durationSeconds),
    onStateEvent: showFailures(progress),
  });
  // Whatever happened, nothing may be left running (the definition tears down; this is a backstop).
  await handlers.teardown({ run: { sites: [] } as never }).catch(() => undefined);
  const { runId, runDir, analysis, endedBy, replay } = handlers.state;
  if (runDir !== undefined) {
    await writeFile(
      join(runDir, 'run.json'),
      `${JSON.stringify(
        {
          runId: handlers.state.runId,
          where: 'local',
          host: hostname(),
          startedAt: startedAt.toISOString(),
          endedAt: new Date().toISOString(),
          endedBy: endedBy ?? null,
          status: result.status,
          workflow: { lastState: result.lastState, error: result.error ?? null, cause: result.cause ?? null },
          mode: options.mode,
          streams: options.streams,
          regions: { forwarder: 'local', receiver: 'local' },
          profile: handlers.lab?.profile ?? null,
          replay: replay
            ? { file: options.replay, speed: options.speed, events: replay.events, skipped: replay.skipped }
            : null,
          versions: { feedpath: projectVersion(), node: process.version },
        },
        null,
        2,
      )}\n`,
    );
  }
  const history = new LocalFolderStore(resolve(options.out));
  const note = (line: string): void => progress.step(line);
  if (
    result.status !== 'SUCCEEDED' ||
    runId === undefined ||
    runDir === undefined ||
    analysis === undefined ||
    endedBy === undefined
  ) {
    const cause = describeCause(result.cause ?? result.error ?? result.status);
    if (runId !== undefined) {
      // A failed run is history too (with its cause); the history must not hide the failure.
      await recordFailedRun(
        history,
        { runId, prefix: runId, error: result.error ?? result.status, cause },
        {
          log: note,
        },
      ).catch(() => undefined);
    }
    throw new FeedpathError(
      result.error === 'InvalidInput' ? ErrorCode.badInput : ErrorCode.agentFailed,
      `the run failed in ${result.lastState}: ${cause}`,
    );
  }
  try {
    const { trend } = await recordRun(history, runId, analysis.report);
    if (trend !== null) note(`history: ${trend.trend.runs.length} run(s) in ${trend.files.html}`);
  } catch (error) {
    progress.warn(`history: could not record the run: ${(error as Error).message}`);
  }
  return { runId, runDir, endedBy, analysis };
}

/** The cause as Step Functions gives it is often JSON `{"errorMessage": …}`: keep the message. */
function describeCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string; Cause?: string; Error?: string };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    if (typeof parsed.Cause === 'string') return describeCause(parsed.Cause);
  } catch {
    // not JSON: as it is
  }
  return cause;
}
