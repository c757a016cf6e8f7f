/**
 * `feedpath run`: the experiment on this machine, driven by the workflow's own definition
 * (statemachine/feedpath.asl.json) in a local interpreter, with Task handlers that start processes
 * on loopback instead of cloud resources (cli/local/handlers.ts).
 */
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, FeedpathError } from '../lib/errors';
import type { LocalRunOptions } from '../lib/experiment';
import { projectVersion } from '../lib/paths';
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
  if (
    result.status !== 'SUCCEEDED' ||
    runId === undefined ||
    runDir === undefined ||
    analysis === undefined ||
    endedBy === undefined
  ) {
    throw new FeedpathError(
      result.error === 'InvalidInput' ? ErrorCode.badInput : ErrorCode.agentFailed,
      `the run failed in ${result.lastState}: ${describeCause(result.cause ?? result.error ?? result.status)}`,
    );
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
