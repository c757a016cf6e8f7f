/**
 * What every agent process shares: how it is started, how it reports, and how it stops.
 *
 * Start: `node dist/agents/<name>.js --config <file.json>` or `--config-json '<json>'`.
 * Report: one JSON object per line on stdout, `{"event":"…", …}` — at least `ready` (with the
 * ports it listens on), `progress` (about once a second), `error` (with a stable `code`), and
 * `done` (with the files written). Human-readable logs go to stderr.
 * Commands: an agent that takes them reads `{"command":"…"}` lines on stdin (e.g. the simulator's
 * `start`, which begins a replay once the local run has connected both paths end to end).
 * Stop: SIGTERM or SIGINT finishes the work (files written) and exits 0; a fatal error exits 1
 * (2 for a bad configuration), after an `error` event.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import { describeIssues } from './zod-issues';
import { ErrorCode, FeedpathError, isFeedpathError } from './errors';

export interface AgentEvent {
  event: 'ready' | 'progress' | 'error' | 'warning' | 'done' | string;
  [key: string]: unknown;
}

/**
 * Set to 1 by a parent that supervises the agent through a stdin pipe (the local run): the agent
 * then finishes when that pipe closes, so it never outlives its parent, even one killed outright.
 */
export const SUPERVISED_ENV = 'FEEDPATH_SUPERVISED';

/** A running agent, as its `start` function returns it. */
export interface AgentHandle {
  /** Finishes the work (flush, write files); resolves with what `done` reports. */
  stop(reason: string): Promise<Record<string, unknown>>;
  /** Resolves when the agent ends by itself (e.g. its duration is reached); optional. */
  finished?: Promise<unknown>;
  /** Handles a command read from stdin (`{"command":"start"}` per line); optional. */
  command?(name: string): void;
}

// A parent that went away must not crash the agent (EPIPE) before it has written its files.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

/** Writes one report line to stdout. */
export function emit(event: AgentEvent): void {
  process.stdout.write(
    `${JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}\n`,
  );
}

/** Reads `--config <file>` / `--config-json <json>` from argv and validates it. */
export function readAgentConfig<S extends z.ZodType>(
  name: string,
  schema: S,
  argv: readonly string[],
): z.infer<S> {
  let raw: unknown;
  const fileIndex = argv.indexOf('--config');
  const jsonIndex = argv.indexOf('--config-json');
  try {
    if (fileIndex >= 0 && argv[fileIndex + 1] !== undefined) {
      raw = JSON.parse(readFileSync(argv[fileIndex + 1] as string, 'utf8'));
    } else if (jsonIndex >= 0 && argv[jsonIndex + 1] !== undefined) {
      raw = JSON.parse(argv[jsonIndex + 1] as string);
    } else {
      raw = {};
    }
  } catch (error) {
    throw new FeedpathError(
      ErrorCode.badConfig,
      `${name}: cannot read its configuration: ${(error as Error).message}`,
    );
  }
  return parseAgentConfig(name, schema, raw);
}

/** Validates an agent's configuration (defaults filled); a bad one is FP_BAD_CONFIG naming the field. */
export function parseAgentConfig<S extends z.ZodType>(name: string, schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new FeedpathError(ErrorCode.badConfig, `${name} configuration: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/**
 * The main of an agent process: validate the config, start, report, and stop on a signal.
 * `start` may throw a FeedpathError; its code is reported and the process exits non-zero.
 */
export async function runAgent<S extends z.ZodType>(
  name: string,
  schema: S,
  start: (config: z.infer<S>) => Promise<AgentHandle>,
): Promise<void> {
  let handle: AgentHandle;
  try {
    const config = readAgentConfig(name, schema, process.argv.slice(2));
    handle = await start(config);
  } catch (error) {
    reportFatal(name, error);
    return;
  }
  let stopping = false;
  // A fatal error after start (e.g. `finished` rejects) is reported first, then the agent still
  // stops cleanly — files written, `done` emitted — and exits 1.
  const stop = async (reason: string, failure?: unknown): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (failure !== undefined) reportError(name, failure);
    try {
      const result = await handle.stop(reason);
      emit({ event: 'done', agent: name, reason, ...result });
      if (failure === undefined) process.exitCode = 0;
    } catch (error) {
      reportError(name, error);
    }
    // Let stdout drain, then leave even if a socket lingers.
    setTimeout(() => process.exit(), 50).unref();
  };
  const supervised = process.env[SUPERVISED_ENV] === '1';
  if (handle.command !== undefined || supervised) {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      let command: unknown;
      try {
        command = (JSON.parse(line) as { command?: unknown }).command;
      } catch {
        command = undefined;
      }
      if (typeof command === 'string' && handle.command !== undefined) handle.command(command);
      else
        emit({
          event: 'warning',
          agent: name,
          code: ErrorCode.badInput,
          message: `not a command: ${line.slice(0, 80)}`,
        });
    });
    // A supervised agent's stdin is its parent's pipe: when it closes, the parent is gone.
    if (supervised) lines.on('close', () => void stop('parent-gone'));
  }
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  handle.finished?.then(
    () => void stop('finished'),
    (error: unknown) => void stop('failed', error),
  );
}

function reportFatal(name: string, error: unknown): void {
  reportError(name, error);
  setTimeout(() => process.exit(), 50).unref();
}

function reportError(name: string, error: unknown): void {
  const code = isFeedpathError(error) ? error.code : ErrorCode.agentFailed;
  const message = error instanceof Error ? error.message : String(error);
  emit({ event: 'error', agent: name, code, message });
  process.stderr.write(`${name}: ${message}\n`);
  if (!isFeedpathError(error) && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  process.exitCode = code === ErrorCode.badConfig ? 2 : 1;
}
