/**
 * `feedpath run`: the experiment on this machine, driven by the workflow's own definition
 * (statemachine/feedpath.asl.json) in a local interpreter, with Task handlers that start processes
 * on loopback instead of cloud resources (cli/local/handlers.ts).
 */
import { writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { ErrorCode, FeedpathError } from '../lib/errors';
import type { LocalRunOptions } from '../lib/experiment';
import { recordFailedRun, recordRun } from '../lib/history';
import { recordReceivers } from '../lib/history/record-run';
import { formatRunFile, mergeCauses, RUN_FILE, type RunCause, type RunStatus } from '../lib/run-file';
import { LocalFolderStore } from '../lib/store';
import type { AnalyzeResult } from './analyze';
import type { AnalyzeReceiversResult } from '../lib/analysis/receivers';
import { LocalHandlers, localRunWaitMs, workflowInput } from './local/handlers';
import { receiversRunStatus } from './local/receivers';
import type { EndedBy } from './local/measurement';
import type { Progress } from './progress';
import { runWorkflowLocally, type WorkflowStateEvent } from './workflow';

export interface RunOutcome {
  runId: string;
  runDir: string;
  endedBy: EndedBy;
  /** succeeded, degraded or interrupted (a failed run throws). */
  status: RunStatus;
  /** The run's analysis; undefined for a run with several receivers, which has `receivers`. */
  analysis?: AnalyzeResult;
  /** A run with several receivers: each one's analysis and the matrix report. */
  receivers?: AnalyzeReceiversResult;
}

/** The command a user types to analyse a run folder, relative to here when it is below here. */
export function analyzeCommandLine(dir: string): string {
  const rel = relative(process.cwd(), dir);
  const shown = rel !== '' && !rel.startsWith('..') ? rel : dir;
  return `feedpath analyze ${/^[\w./@:+-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", "'\\''")}'`}`;
}

/**
 * Ctrl-C: the first one during the measurement ends it in order (the agents drain and write their
 * files, the run is analysed and marked interrupted). A second one — or a first one outside the
 * measurement — stops at once: run.json is marked interrupted and the user is told how to analyse
 * what was kept. The agents finish writing by themselves when this process goes (their stdin closes).
 */
function watchInterrupts(handlers: LocalHandlers, progress: Progress): () => void {
  let presses = 0;
  const onSigint = (): void => {
    presses++;
    const measurement = handlers.measurement;
    if (presses === 1 && measurement?.running === true) {
      measurement.interrupt();
      return;
    }
    const dir = handlers.state.runDir;
    const cause: RunCause = {
      what: 'user',
      at: new Date().toISOString(),
      detail: 'stopped at once by Ctrl-C: not analysed',
    };
    const run = handlers.runFile('interrupted', { causes: mergeCauses(handlers.state.causes, [cause]) });
    if (run !== null && dir !== undefined) {
      try {
        writeFileSync(resolve(dir, RUN_FILE), formatRunFile(run));
      } catch {
        // the folder is what it is: the analysis reads it without run.json too
      }
    }
    progress.warn(
      dir === undefined
        ? 'interrupted before the run had a folder: nothing was recorded'
        : `interrupted: what was recorded is kept in ${dir}; analyse it with: ${analyzeCommandLine(dir)}`,
    );
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}

/** Runs the experiment locally through the workflow definition; throws with the cause if it fails. */
export async function runLocal(options: LocalRunOptions, progress: Progress): Promise<RunOutcome> {
  const handlers = new LocalHandlers(options, progress);
  // The first failed state is the failure; the states after it (teardown, the Fail state) only
  // carry it along, so it is printed once, at the end.
  let firstFailure: WorkflowStateEvent | undefined;
  const unwatch = watchInterrupts(handlers, progress);
  let result: Awaited<ReturnType<typeof runWorkflowLocally>>;
  try {
    result = await runWorkflowLocally(workflowInput(options), handlers, {
      pollWaitMs: 0,
      retryIntervalMs: 200,
      runWaitMs: localRunWaitMs(options.durationSeconds),
      onStateEvent: (event) => {
        if (event.type === 'failed' && firstFailure === undefined) firstFailure = event;
      },
    });
  } finally {
    // Whatever happened, nothing may be left running (the definition tears down; this is a backstop).
    await handlers.teardown({ run: { sites: [] } as never }).catch(() => undefined);
    unwatch();
  }
  const { runId, runDir, analysis, receivers, endedBy } = handlers.state;
  const workflow = { lastState: result.lastState, error: result.error ?? null, cause: result.cause ?? null };
  const history = new LocalFolderStore(resolve(options.out));
  const note = (line: string): void => progress.step(line);
  if (
    result.status !== 'SUCCEEDED' ||
    runId === undefined ||
    runDir === undefined ||
    (analysis === undefined && receivers === undefined) ||
    endedBy === undefined
  ) {
    const where = firstFailure?.state ?? result.lastState;
    const cause = describeCause(firstFailure?.cause ?? result.cause ?? result.error ?? result.status);
    const status: RunStatus = result.status === 'ABORTED' ? 'interrupted' : 'failed';
    await handlers
      .writeRunFile(status, {
        causes: mergeCauses(handlers.state.causes, [
          { what: where, at: (firstFailure?.at ?? new Date()).toISOString(), detail: cause },
        ]),
        workflow,
      })
      .catch(() => undefined);
    if (runId !== undefined) {
      // A failed run is history too (with its cause); the history must not hide the failure.
      await recordFailedRun(
        history,
        { runId, prefix: runId, error: firstFailure?.error ?? result.error ?? result.status, cause },
        { log: note },
      ).catch(() => undefined);
    }
    const code = errorCodeIn(cause);
    throw new FeedpathError(
      firstFailure?.error === 'InvalidInput' || result.error === 'InvalidInput'
        ? ErrorCode.badInput
        : (code ?? ErrorCode.agentFailed),
      // The code is printed once, after the message.
      `the run failed in ${where}: ${code === undefined ? cause : cause.replace(` [${code}]`, '')}`,
    );
  }
  if (analysis === undefined) {
    if (receivers === undefined) throw new Error('the run has no analysis');
    // Several receivers: the run's status gathers each receiver's, and each gets a history record.
    const { status, causes } = receiversRunStatus(
      handlers.measuredStatus(),
      handlers.state.causes,
      receivers,
    );
    await handlers.writeRunFile(status, { causes, workflow });
    try {
      const { trend } = await recordReceivers(
        history,
        runId,
        Object.entries(receivers.receivers).map(([name, analysis]) => ({
          name,
          region: 'local',
          report: analysis?.report ?? null,
        })),
      );
      if (trend !== null) note(`history: ${trend.trend.runs.length} run(s) in ${trend.files.html}`);
    } catch (error) {
      progress.warn(`history: could not record the run: ${(error as Error).message}`);
    }
    return { runId, runDir, endedBy, status, receivers };
  }
  // The analysis knows what the measurement saw (the run.json written before it) and what the data
  // shows (a silent tail, lost events): its status is the run's.
  const { status, causes } = analysis.report.run_status;
  await handlers.writeRunFile(status, { causes, workflow });
  try {
    const { trend } = await recordRun(history, runId, analysis.report);
    if (trend !== null) note(`history: ${trend.trend.runs.length} run(s) in ${trend.files.html}`);
  } catch (error) {
    progress.warn(`history: could not record the run: ${(error as Error).message}`);
  }
  return { runId, runDir, endedBy, status, analysis };
}

/** The FP_ code an agent's message ends with (`… [FP_EXCHANGE_UNREACHABLE]`), kept through the workflow. */
function errorCodeIn(message: string): ErrorCode | undefined {
  const codes = Object.values(ErrorCode) as string[];
  const found = /\b(FP_[A-Z_]+)\b/.exec(message)?.[1];
  return found !== undefined && codes.includes(found) ? (found as ErrorCode) : undefined;
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
