/** How the agents' start functions report: events (stdout JSON lines in a process) and log lines. */
import { emit, type AgentEvent } from '../../lib/agent';
import type { WallClock } from '../../lib/clock';
import type { FeedpathError } from '../../lib/errors';

export interface AgentIo {
  /** [report=emit] Receives `ready`, `progress`, `warning` events (a process writes them to stdout). */
  report?: (event: AgentEvent) => void;
  /** [log=stderr] Human-readable lines about connections. */
  log?: (line: string) => void;
  /** The wall clock arrivals are stamped with (the process-wide one by default). */
  clock?: WallClock;
}

/** Writes a log line to stderr, prefixed with the agent's name. */
export function stderrLog(agent: string): (line: string) => void {
  return (line) => process.stderr.write(`${agent}: ${line}\n`);
}

/** The report and log functions with their defaults, and `warn`: an error reported as a `warning`. */
export function agentIo(
  agent: string,
  io: AgentIo,
): {
  report: (event: AgentEvent) => void;
  log: (line: string) => void;
  warn: (error: FeedpathError) => void;
} {
  const report = io.report ?? emit;
  const warn = (error: FeedpathError): void =>
    report({ event: 'warning', agent, code: error.code, message: error.message });
  return { report, log: io.log ?? stderrLog(agent), warn };
}

/**
 * A promise that settles when the agent ends by itself: after `durationSeconds` (resolves) or on a
 * fatal error (rejects). Marked handled, so an in-process user that never awaits it does not get an
 * unhandled rejection; runAgent awaits it.
 */
export function finishSignal(durationSeconds: number | undefined): {
  finished: Promise<string>;
  fail: (error: Error) => void;
  cancel: () => void;
} {
  let resolveFinished!: (reason: string) => void;
  let rejectFinished!: (error: Error) => void;
  const finished = new Promise<string>((resolve, reject) => {
    resolveFinished = resolve;
    rejectFinished = reject;
  });
  finished.catch(() => undefined);
  const timer =
    durationSeconds === undefined
      ? undefined
      : setTimeout(() => resolveFinished('duration reached'), durationSeconds * 1000);
  return {
    finished,
    fail: (error) => {
      if (timer !== undefined) clearTimeout(timer);
      rejectFinished(error);
    },
    cancel: () => {
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
