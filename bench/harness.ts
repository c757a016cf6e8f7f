/** Starting pinned processes (lib/json-lines-process.ts) and reading their JSON lines, for the benchmarks. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Json } from '../lib/json';
import { agentCommand, JsonLinesProcess } from '../lib/json-lines-process';
import { agentsDir } from '../lib/project-files';

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** `taskset -c <core> <command…>` where taskset works, the bare command otherwise. */
export function pinned(
  core: number | undefined,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  if (core === undefined || !hasTaskset) return { command, args };
  return { command: 'taskset', args: ['-c', String(core), command, ...args] };
}

export function pinningNote(): string {
  return hasTaskset ? 'taskset, one core per process' : 'not pinned (no taskset)';
}

/** No wait on a process' output may hang the benchmark. */
const STOP_TIMEOUT_MS = 30_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const running = new Set<JsonLinesProcess>();
let cleanupInstalled = false;

/** Kills every process the benchmark started that is still running (on exit, too). */
function killAll(): void {
  for (const child of running) void child.kill();
}

/** A child process whose stdout is JSON lines; stderr is kept (its tail explains a failure). */
export class Proc {
  /** Resolves once the process has exited and its output is read to the end. */
  readonly exited: Promise<number | null>;
  private readonly child: JsonLinesProcess;
  private done = false;

  constructor(
    readonly label: string,
    command: string,
    args: string[],
  ) {
    if (!cleanupInstalled) {
      cleanupInstalled = true;
      process.once('exit', killAll);
    }
    this.child = new JsonLinesProcess(command, args);
    running.add(this.child);
    this.exited = this.child.closed.then((code) => {
      this.done = true;
      running.delete(this.child);
      return code;
    });
  }

  get lines(): readonly Json[] {
    return this.child.lines;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The first line so far that matches, or the next one; fails on exit or after `timeoutMs`. */
  async waitFor(match: (line: Json) => boolean, what: string, timeoutMs: number): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find(match);
      if (line !== undefined) return line;
      if (this.done) throw this.failure(`exited before ${what}`);
      if (Date.now() > deadline) throw this.failure(`no ${what} within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** The last line so far that matches. */
  latest(match: (line: Json) => boolean): Json | undefined {
    return this.lines.findLast(match);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.signal(signal);
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`); returns the `done` event if any. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<Json | undefined> {
    await this.child.stop(timeoutMs);
    await this.exited;
    return this.latest((l) => l.event === 'done');
  }

  kill(): void {
    void this.child.kill();
  }

  failure(message: string): Error {
    const tail = this.child.stderrTail;
    return new Error(`${this.label}: ${message}${tail ? `\n${tail}` : ''}`);
  }
}

/** A real agent bundle as the local run starts it (same Node flags), pinned to a core where taskset works. */
export function startAgentProcess(agent: string, config: Json, core: number): Proc {
  const { command, args } = agentCommand(join(agentsDir(), `${agent}.js`), config);
  const started = pinned(core, command, args);
  return new Proc(agent, started.command, started.args);
}

/** Starts a benchmark worker (bench/workers/) pinned to a core. */
export function startWorker(name: string, args: Json, core?: number): Proc {
  const { command, args: argv } = pinned(core, process.execPath, [
    process.argv[1] as string,
    '--worker',
    name,
    JSON.stringify(args),
  ]);
  return new Proc(name, command, argv);
}
